package io.nemotron.service.toolcall;

/** The inside of a {@code <TOOLCALL>} block is not a call list; caught by the stream parser, never leaves it. */
final class ToolCallSyntaxException extends RuntimeException {
    ToolCallSyntaxException(String message) {
        super(message, null, false, false); // no stack trace: malformed model output is routine, not exceptional
    }
}
