package io.nemotron.core.engine;

/**
 * Hears the outcome of every engine step, on the engine thread: the service's metrics and its circuit breaker
 * listen here. Implementations must be quick and must not block or throw (a throw is logged and ignored).
 */
public interface StepObserver {

    /**
     * A forward pass of the whole batch succeeded.
     *
     * @param sequences sequences in the step (decodes and prefill chunks)
     * @param tokens    token rows the forward pass computed
     * @param nanos     wall time of the step: forward, sampling and bookkeeping (told before the step's tokens go
     *                  to the output stage)
     */
    void onStep(int sequences, int tokens, long nanos);

    /** The backend threw during the step; its sequences failed with an {@link EngineStepException}. */
    void onStepFailed(Throwable error, int sequences, long nanos);
}
