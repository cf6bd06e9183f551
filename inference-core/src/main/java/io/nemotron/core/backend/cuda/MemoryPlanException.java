package io.nemotron.core.backend.cuda;

/** The model, its workspace or a minimal KV cache does not fit the GPU memory budget; the message names the numbers. */
public final class MemoryPlanException extends RuntimeException {
    public MemoryPlanException(String message) {
        super(message);
    }
}
