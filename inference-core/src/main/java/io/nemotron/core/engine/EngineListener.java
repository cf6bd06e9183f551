package io.nemotron.core.engine;

import io.nemotron.core.sampling.SampledLogprobs;

/**
 * Events of one request, called on the engine thread: implementations must be quick and must not block
 * (hand off to the gRPC stream's executor / queue). Exactly one of {@link #onFinished} or {@link #onError} ends the
 * stream; nothing is called after it.
 */
public interface EngineListener {

    /**
     * One generated token.
     *
     * @param tokenId   the sampled id
     * @param textDelta the text it completes (possibly empty: held-back bytes or a possible stop-string start)
     * @param logprobs  null unless the request asked for logprobs
     */
    void onToken(int tokenId, String textDelta, SampledLogprobs logprobs);

    /** The request ended normally, was cancelled, or expired; {@code finalText} is text released at the end. */
    void onFinished(FinishReason reason, String finalText, RequestStats stats);

    /** The request failed (a backend error); the engine keeps serving others. */
    void onError(Throwable error, RequestStats stats);
}
