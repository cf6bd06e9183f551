package io.nemotron.service.engine;

import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.EngineRequest;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.InferenceEngine;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.engine.SamplingParams;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One greedy token through the engine before the server reports SERVING: it proves the weights, backend and step
 * loop work end to end and pays first-call costs (JIT, page faults on the mmapped weights) before a client does.
 */
final class Warmup {
    private Warmup() {}

    static void run(InferenceEngine engine, int[] promptIds, Duration timeout) {
        CompletableFuture<FinishReason> done = new CompletableFuture<>();
        var handle = engine.submit(EngineRequest.of("warmup", promptIds, SamplingParams.greedy(1)), new EngineListener() {
            @Override
            public void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {}

            @Override
            public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
                done.complete(reason);
            }

            @Override
            public void onError(Throwable error, RequestStats stats) {
                done.completeExceptionally(error);
            }
        });
        try {
            FinishReason reason = done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (reason != FinishReason.STOP && reason != FinishReason.LENGTH) {
                throw new IllegalStateException("warm-up generation ended with " + reason.wireName());
            }
        } catch (TimeoutException e) {
            handle.cancel();
            throw new IllegalStateException("warm-up generation did not finish within " + timeout);
        } catch (ExecutionException e) {
            throw new IllegalStateException("warm-up generation failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            handle.cancel();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during warm-up");
        }
    }
}
