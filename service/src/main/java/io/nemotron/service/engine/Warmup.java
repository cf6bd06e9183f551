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
 * (each at least 250 ms of 32-token generations) run until the JIT has settled on the batch-1 path (kernels, step loop,
 * sampler): two rounds in a row in which the JVM's compilers spent under 5 % of their time end the warm-up, so the first real
 * request decodes at the speed of the tenth (WarmupTest measures both). The generations after the first have an 8-token
 * prompt, so the prefill's multi-row matmuls compile too.
 */
final class Warmup {
    /** Tokens of one generation: enough decode steps that its time is not a handful of timer ticks. */
    static final int GENERATION_TOKENS = 32;
    static final int PROMPT_TOKENS = 8;
    /**
     * A round runs generations for at least this long, so that a small model's round is long enough for the share of
     * compile time in it to mean something (a 32-token round of the demo model is 40 ms).
     */
    static final long ROUND_MIN_NANOS = 250_000_000L;
    /** A round whose JIT compilation took less than this share of its wall time: the path is compiled. */
    static final double SETTLED_COMPILE_SHARE = 0.05;

    /**
     * @param rounds  rounds run (each one or more generations)
     * @param tokens  tokens they generated
     * @param settled whether the last round found the JIT settled (false: warmup-tokens ran out first)
     */
    record Report(int rounds, int tokens, boolean settled, long millis) {}

    private Warmup() {}

    /**
     * At most {@code maxTokens} greedy tokens (nemotron.model.warmup-tokens), EOS ignored, from {@code probe} (one
     * valid token id) and then prompts of ids below {@code vocabSize}; {@code timeout} bounds each generation.
     */
    static Report run(InferenceEngine engine, int[] probe, int maxTokens, int contextLength, int vocabSize,
                      Duration timeout) {
        long start = System.nanoTime();
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        int tokens = 0;
        int generations = 0;
        int rounds = 0;
        int quietRounds = 0;
        boolean settled = false;
        while (tokens < maxTokens && !settled) {
            long compiledBefore = timed ? jit.getTotalCompilationTime() : 0;
            long roundStart = System.nanoTime();
            do {
                // the first generation is the probe alone, one token: it carries the first-use costs (packing, page
                // faults) under its own timeout, without 31 decode steps of a large model on top
                int[] prompt = generations == 0 ? probe
                        : distinct(probe[0], generations, Math.min(PROMPT_TOKENS, contextLength / 2), vocabSize);
                int n = generations == 0 ? 1
                        : Math.min(Math.min(GENERATION_TOKENS, maxTokens - tokens), contextLength - prompt.length);
                if (n < 1) {
                    return new Report(rounds + 1, tokens, false, (System.nanoTime() - start) / 1_000_000);
                }
                run(engine, generations == 0 ? "warmup" : "warmup-" + (generations + 1), prompt, n, timeout);
                generations++;
                tokens += n;
            } while (System.nanoTime() - roundStart < ROUND_MIN_NANOS && tokens < maxTokens);
            long roundMillis = (System.nanoTime() - roundStart) / 1_000_000;
            rounds++;
            // without compile-time monitoring there is nothing to wait for: two rounds are the warm-up
            boolean quiet = !timed
                    || jit.getTotalCompilationTime() - compiledBefore <= SETTLED_COMPILE_SHARE * roundMillis;
            quietRounds = quiet ? quietRounds + 1 : 0;
            // two quiet rounds in a row: one alone was seen while C2 still had the step loop's methods queued
            settled = rounds > 1 && quietRounds >= 2;
        }
        return new Report(rounds, tokens, settled, (System.nanoTime() - start) / 1_000_000);
    }

    /**
     * A prompt of {@code n} ids that no other warm-up generation shares (as real prompts differ, so no prefix-cache hit
     * skips the prefill), starting at the probe and stepping through the vocabulary.
     */
    private static int[] distinct(int probe, int generation, int n, int vocabSize) {
        int[] ids = new int[Math.max(1, n)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) Math.floorMod(probe + 7919L * generation + 104_729L * i, (long) vocabSize);
        }
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
