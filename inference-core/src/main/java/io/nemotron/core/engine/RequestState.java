package io.nemotron.core.engine;

import io.nemotron.core.sampling.SampledLogprobs;

/**
 * Everything the engine keeps for one live request besides the scheduler's {@link Sequence}: its sampling state
 * (step thread) and its {@link RequestOutput} (the output stage's side).
 */
final class RequestState implements RequestHandle {
    final EngineRequest request;
    final Sequence sequence;
    final SamplingState sampling;
    final long submittedNanos;
    private final Engine engine;
    RequestOutput output;
    // written once by the step thread before the first token is handed over, so the output stage sees them
    volatile long firstScheduledNanos;
    volatile long firstTokenNanos;
    /** The logprobs of the token sampled this step, or null (step thread). */
    SampledLogprobs logprobs;
    /** The sequence left the engine (step thread only). */
    boolean done;

    RequestState(Engine engine, EngineRequest request, Sequence sequence, long submittedNanos) {
        this.engine = engine;
        this.request = request;
        this.sequence = sequence;
        this.sampling = new SamplingState(request.params(), request.promptIds());
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

    /** Step thread: the stats now. */
    RequestStats stats(long now) {
        return stats(now, sequence.numOutputTokens(), sequence.numCachedTokens());
    }

    /** Any thread: the stats with the token counts given (the output stage's, as of the token it delivers). */
    RequestStats stats(long now, int numOutputTokens, int numCachedTokens) {
        long scheduled = firstScheduledNanos;
        long firstToken = firstTokenNanos;
        return new RequestStats(sequence.numPromptTokens(), numOutputTokens, numCachedTokens,
                scheduled == 0 ? now - submittedNanos : scheduled - submittedNanos,
                firstToken == 0 ? 0 : firstToken - submittedNanos, now - submittedNanos);
    }
}
