package io.nemotron.core.engine;

/**
 * A step of the engine failed inside the backend: the requests of that step fail with it (gRPC INTERNAL), whatever
 * the cause's type (an IllegalArgumentException from a kernel is the server's fault, not the client's).
 */
public class EngineStepException extends RuntimeException {
    public EngineStepException(String message, Throwable cause) {
        super(message, cause);
    }
}
