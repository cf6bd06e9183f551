package io.nemotron.core.engine;

/** The engine has shut down (or its step loop died): retry on another replica (gRPC UNAVAILABLE). */
public class EngineClosedException extends RuntimeException {
    public EngineClosedException(String message) {
        super(message);
    }

    public EngineClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
