package io.nemotron.service.grpc.stream;

/**
 * The stages between the engine's text deltas and the client: the reasoning splitter ({@code <think>}) and the
 * streaming tool-call parser ({@code <TOOLCALL>}) implement this and feed a {@link ChatOutput}. One instance per
 * request, driven by the engine's output stage one call at a time, so implementations keep plain state.
 */
public interface ChatTextPipeline {
    /** The next piece of generated text (already detokenized; never half a character). */
    void accept(String text);

    /** The generation ended: flush held-back text. Returns whether tool calls were emitted (finish reason tool_calls). */
    boolean finish();
}
