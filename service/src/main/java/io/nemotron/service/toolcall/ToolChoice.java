package io.nemotron.service.toolcall;

import io.nemotron.core.engine.InvalidRequestException;

/**
 * Whether and which tools the model should call (the request's tool_choice).
 *
 * @param name the one tool to call when {@code mode} is NAMED, else null
 */
public record ToolChoice(Mode mode, String name) {
    public enum Mode {
        /** Answer in text only: the parser is off and tool-call markup stays content. */
        NONE,
        AUTO,
        /** At least one call; an answer without one gets an error. */
        REQUIRED,
        /** Calls to {@link #name} only. */
        NAMED
    }

    public static final ToolChoice NONE = new ToolChoice(Mode.NONE, null);
    public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);
    public static final ToolChoice REQUIRED = new ToolChoice(Mode.REQUIRED, null);

    public ToolChoice {
        if ((mode == Mode.NAMED) != (name != null && !name.isEmpty())) {
            throw new InvalidRequestException("tool_choice: a tool name goes with mode NAMED and only with it");
        }
    }

    public static ToolChoice named(String name) {
        return new ToolChoice(Mode.NAMED, name);
    }
}
