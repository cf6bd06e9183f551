package io.nemotron.core.engine;

/**
 * The serving engine as the service sees it: requests go in from any thread, token events come out on the engine
 * thread. Implemented by the continuous-batching {@code Engine}; tests may use a fake.
 */
public interface InferenceEngine extends AutoCloseable {

    /**
     * Queues a request.
     *
     * @throws EngineOverloadedException when the waiting queue is full (maps to RESOURCE_EXHAUSTED)
     * @throws IllegalArgumentException  when the request cannot fit (prompt + max_tokens over the context)
     */
    RequestHandle submit(EngineRequest request, EngineListener listener);

    /** Registers an observer of every step's outcome (metrics, the circuit breaker); any thread, any time. */
    void addStepObserver(StepObserver observer);

    /** Current load: running and waiting sequences, KV usage. */
    EngineSnapshot snapshot();

    @Override
    void close();
}
