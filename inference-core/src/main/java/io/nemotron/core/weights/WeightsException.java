package io.nemotron.core.weights;

/** A checkpoint that cannot be used: corrupt header, truncated file, missing tensor, wrong shape or dtype. */
public class WeightsException extends RuntimeException {
    public WeightsException(String message) {
        super(message);
    }

    public WeightsException(String message, Throwable cause) {
        super(message, cause);
    }
}
