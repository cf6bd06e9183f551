package io.nemotron.core.backend;

/** A collective could not complete: another rank failed, so the whole step fails on every rank. */
public class CommunicatorException extends RuntimeException {
    public CommunicatorException(String message) {
        super(message);
    }

    public CommunicatorException(String message, Throwable cause) {
        super(message, cause);
    }
}
