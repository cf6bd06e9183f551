package io.nemotron.core.engine;

/**
 * Everything the engine keeps for one live request besides the scheduler's {@link Sequence}: its listener and the
 * per-sequence sampling, detokenizing and stop state. Owned by the engine thread.
 */
final class RequestState implements RequestHandle {
    final EngineRequest request;
    final EngineListener listener;
    final Sequence sequence;
    final SequenceOutput output;
    final long submittedNanos;
    private final Engine engine;
    long firstScheduledNanos;
    long firstTokenNanos;
    boolean countedAsWaiting = true;
    boolean done;

    RequestState(Engine engine, EngineRequest request, EngineListener listener, Sequence sequence,
                 SequenceOutput output, long submittedNanos) {
        this.engine = engine;
        this.request = request;
        this.listener = listener;
        this.sequence = sequence;
        this.output = output;
        this.submittedNanos = submittedNanos;
    }

    @Override
    public String requestId() {
        return request.requestId();
    }

    @Override
    public void cancel() {
        engine.cancel(this);
    }

    RequestStats stats(long now) {
        return new RequestStats(sequence.numPromptTokens(), sequence.numOutputTokens(), sequence.numCachedTokens(),
                firstScheduledNanos == 0 ? now - submittedNanos : firstScheduledNanos - submittedNanos,
                firstTokenNanos == 0 ? 0 : firstTokenNanos - submittedNanos, now - submittedNanos);
    }
}
