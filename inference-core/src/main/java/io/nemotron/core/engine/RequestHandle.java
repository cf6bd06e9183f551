package io.nemotron.core.engine;

/** A submitted request; cancelling is safe from any thread and at any time (idempotent). */
public interface RequestHandle {
    String requestId();

    /** The sequence leaves the batch at the next step and its KV blocks return to the pool. */
    void cancel();
}
