package io.nemotron.service.engine;

/** The model is still loading, failed to load, or the server is draining (gRPC UNAVAILABLE). */
public final class ModelNotReadyException extends RuntimeException {
    public ModelNotReadyException(String message) {
        super(message);
    }
}
