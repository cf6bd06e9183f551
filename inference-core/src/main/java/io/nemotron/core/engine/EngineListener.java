package io.nemotron.core.engine;

import io.nemotron.core.sampling.SampledLogprobs;

/**
 * Events of one request, called on the engine's output stage, off the step thread: in order, one call at a time per
 * request (different requests' listeners run in parallel). Exactly one of {@link #onFinished} or {@link #onError} ends
 * the stream; nothing is called after it. A listener that blocks delays only its own request's events, never the
 * steps (its tokens queue up, at most max_tokens of them).
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
