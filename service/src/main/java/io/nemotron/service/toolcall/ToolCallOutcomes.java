package io.nemotron.service.toolcall;

/**
 * Hears, once per response, what went wrong with the model's tool calls (the metrics package counts them). Kept as a
 * callback so this package stays plain classes with no metrics library.
 */
@FunctionalInterface
public interface ToolCallOutcomes {
    ToolCallOutcomes NONE = (parseFailures, validationErrors) -> {};

    /**
     * @param parseFailures    malformed {@code <TOOLCALL>} blocks (kept as content)
     * @param validationErrors calls that broke the request's tool schemas, plus one for a tool_choice breach
     */
    void finished(int parseFailures, int validationErrors);
}
