package io.nemotron.service.metrics;

import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import java.util.concurrent.TimeUnit;

/**
 * Wraps one request's listener: the gap between consecutive tokens is timed here because only the stream sees both
 * ends of it (RequestStats carries totals). Runs on the engine's output stage like the call it wraps: one nanoTime and one
 * histogram update per token.
 */
final class MeteredListener implements EngineListener {
    private final RequestMetrics.PerRpc metrics;
    private final EngineListener call;
    /** nanoTime of the previous token; 0 before the first (whose latency is the time to first token). */
    private long lastToken;

    MeteredListener(RequestMetrics.PerRpc metrics, EngineListener call) {
        this.metrics = metrics;
        this.call = call;
    }

    @Override
    public void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {
        long now = System.nanoTime();
        if (lastToken != 0) {
            metrics.interTokenLatency.record(now - lastToken, TimeUnit.NANOSECONDS);
        }
        lastToken = now;
        call.onToken(tokenId, textDelta, logprobs);
    }

    @Override
    public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
        metrics.finished(stats);
        call.onFinished(reason, finalText, stats);
    }

    @Override
    public void onError(Throwable error, RequestStats stats) {
        metrics.finished(stats);
        call.onError(error, stats);
    }
}
