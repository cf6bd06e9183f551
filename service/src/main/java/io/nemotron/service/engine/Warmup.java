package io.nemotron.service.engine;

import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.EngineRequest;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.InferenceEngine;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.engine.SamplingParams;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Greedy generations through the engine before the server reports SERVING: they prove the weights, backend and step
 * loop work end to end and pay the first-use costs before a client does. The first token runs every weight of the
 * model (the CPU backend packs or copies each on first use, page faults on the mmapped weights are taken). Then rounds
 * of decode steps run until the JIT has settled on the batch-1 path (kernels, step loop, sampler): a round in which
 * the JVM's compilers spent under 5 % of its time ends the warm-up, so the first real request decodes at the speed of
 * the tenth (WarmupTest measures both). The rounds after the first have an 8-token prompt, so the prefill's multi-row
 * matmuls compile too.
 */
final class Warmup {
    /** Tokens of one round: enough decode steps that a round's time is not a handful of timer ticks. */
    static final int ROUND_TOKENS = 32;
    static final int PROMPT_TOKENS = 8;
    /** A round whose JIT compilation took less than this share of its wall time: the path is compiled. */
    static final double SETTLED_COMPILE_SHARE = 0.05;

    /**
     * @param rounds  generations run
     * @param tokens  tokens they generated
     * @param settled whether the last round found the JIT settled (false: warmup-tokens ran out first)
     */
    record Report(int rounds, int tokens, boolean settled, long millis) {}

    private Warmup() {}

    /**
     * At most {@code maxTokens} greedy tokens (nemotron.model.warmup-tokens), EOS ignored, in rounds from
     * {@code probe} (one valid token id); {@code timeout} bounds each round.
     */
    static Report run(InferenceEngine engine, int[] probe, int maxTokens, int contextLength, Duration timeout) {
        long start = System.nanoTime();
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        int tokens = 0;
        int rounds = 0;
        boolean settled = false;
        while (tokens < maxTokens && !settled) {
            // the first round is the probe alone (one step when warmup-tokens is 1, as before issue 19)
            int[] prompt = rounds == 0 ? probe : repeat(probe[0], Math.min(PROMPT_TOKENS, contextLength / 2));
            int n = Math.min(Math.min(ROUND_TOKENS, maxTokens - tokens), contextLength - prompt.length);
            if (n < 1) {
                break; // a context too short for another round
            }
            long compiledBefore = timed ? jit.getTotalCompilationTime() : 0;
            long roundStart = System.nanoTime();
            run(engine, rounds == 0 ? "warmup" : "warmup-" + (rounds + 1), prompt, n, timeout);
            long roundMillis = (System.nanoTime() - roundStart) / 1_000_000;
            rounds++;
            tokens += n;
            // without compile-time monitoring there is nothing to wait for: the tokens given are the warm-up
            settled = rounds > 1 && (!timed
                    || jit.getTotalCompilationTime() - compiledBefore <= SETTLED_COMPILE_SHARE * roundMillis);
        }
        return new Report(rounds, tokens, settled, (System.nanoTime() - start) / 1_000_000);
    }

    private static int[] repeat(int id, int n) {
        int[] ids = new int[Math.max(1, n)];
        java.util.Arrays.fill(ids, id);
        return ids;
    }

    private static void run(InferenceEngine engine, String id, int[] promptIds, int tokens, Duration timeout) {
        CompletableFuture<FinishReason> done = new CompletableFuture<>();
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(tokens).ignoreEos(true).build();
        var handle = engine.submit(EngineRequest.of(id, promptIds, greedy), new EngineListener() {
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
