package io.nemotron.core.engine;

/** The waiting queue is full: the caller should retry later (gRPC RESOURCE_EXHAUSTED). */
public class EngineOverloadedException extends RuntimeException {
    public EngineOverloadedException(String message) {
        super(message);
    }
}
