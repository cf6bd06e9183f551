package io.nemotron.core.engine;

/**
 * What a client sent is wrong: the message starts with the field's name and a colon ({@code "max_tokens: ..."},
 * {@code "messages[2].role: ..."}), so every transport can name it (gRPC INVALID_ARGUMENT, HTTP 400 with
 * {@code param}). Only this type, never a bare {@link IllegalArgumentException}, is reported as the client's fault: an
 * IllegalArgumentException from anywhere else is a bug and is reported as internal. It extends
 * IllegalArgumentException so the command line's one-line error handling covers it as before.
 */
public class InvalidRequestException extends IllegalArgumentException {

    public InvalidRequestException(String message) {
        super(message);
        if (message.indexOf(':') < 1) {
            throw new IllegalStateException("a request error must start with its field: " + message);
        }
    }

    /** The offending field: the message up to its first colon. */
    public String field() {
        return getMessage().substring(0, getMessage().indexOf(':'));
    }
}
