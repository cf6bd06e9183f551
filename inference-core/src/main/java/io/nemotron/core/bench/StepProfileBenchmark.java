package io.nemotron.core.bench;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.model.Transformer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where a decode step's time goes (with the KV cache dtype the model was opened with): {@code batch} sequences, each with {@code context} tokens already in the KV
 * cache, decode one token per step through the forward pass alone (no engine, no sampling, no server), and every
 * backend op is timed ({@link OpTimingBackend}). Comparing batch 1 with batch 16 here separates the model's own
 * batching gain from what the engine and the gRPC path cost on top (`bench offline`, `bench serve`).
 */
public final class StepProfileBenchmark {
    private static final int BLOCK_SIZE = 16;

    private final LoadedModel model;

    public StepProfileBenchmark(LoadedModel model) {
        if (model.tensorParallel() != 1) {
            throw new IllegalArgumentException("bench step profiles one rank: use --tensor-parallel 1");
        }
        this.model = model;
    }

    /** Ops of the measured steps, per step: milliseconds and calls; {@code kvCache} is the KV cache dtype's label. */
    public record Result(int batch, int context, int steps, double stepMillis, Map<String, double[]> ops,
                         String kvCache) {
        public double tokensPerSecond() {
            return batch * 1000.0 / stepMillis;
        }

        public double opMillis() {
            return ops.values().stream().mapToDouble(v -> v[0]).sum();
        }

        /** Milliseconds per step in paged attention (the KV cache's reads and writes), 0 when none ran. */
        public double attentionMillis() {
            double[] a = ops.get("attention");
            return a == null ? 0 : a[0];
        }
    }

    public Result run(int batch, int context, int warmupSteps, int steps) {
        int maxRows = model.backend().maxRows();
        int maxContext = model.config().maxPositionEmbeddings();
        if (batch < 1 || batch > maxRows) {
            throw new IllegalArgumentException("batch must be in [1, " + maxRows + "], got " + batch);
        }
        if (context < 1 || context >= maxContext) {
            throw new IllegalArgumentException("context must be in [1, " + (maxContext - 1) + "], got " + context);
        }
        if (warmupSteps < 0 || steps < 1) {
            throw new IllegalArgumentException("warm-up steps must be >= 0 and steps >= 1");
        }
        OpTimingBackend timing = new OpTimingBackend(model.backend());
        Transformer forward = new Transformer(model.config(), model.transformer().weights(), timing);
        int blocksPerSequence = (context + 1 + BLOCK_SIZE - 1) / BLOCK_SIZE;
        KvPool kv = forward.newKvPool(batch * blocksPerSequence, BLOCK_SIZE);
        int[][] tables = new int[batch][blocksPerSequence];
        int[][] tokens = new int[batch][context + 1];
        SplittableRandom random = new SplittableRandom(17);
        int vocab = model.config().vocabSize();
        for (int s = 0; s < batch; s++) {
            for (int b = 0; b < blocksPerSequence; b++) {
                tables[s][b] = s * blocksPerSequence + b;
            }
            for (int i = 0; i <= context; i++) {
                tokens[s][i] = random.nextInt(vocab);
            }
        }
        StepBatch step = new StepBatch(maxRows, batch);
        float[] logits = new float[batch * vocab];
        // the context's K/V, written by chunked prefill like the engine's
        for (int s = 0; s < batch; s++) {
            for (int start = 0; start < context; start += maxRows) {
                step.clear();
                step.addSequence(tokens[s], start, Math.min(maxRows, context - start), tables[s], BLOCK_SIZE);
                forward.forward(step, kv, logits);
            }
        }
        for (int i = 0; i < warmupSteps; i++) {
            decode(forward, kv, step, tokens, tables, context, logits);
        }
        timing.reset();
        long start = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            decode(forward, kv, step, tokens, tables, context, logits);
        }
        double stepMillis = (System.nanoTime() - start) / 1e6 / steps;
        Map<String, double[]> ops = new LinkedHashMap<>();
        timing.totals().forEach((name, t) -> ops.put(name, new double[] {t[0] / 1e6 / steps, (double) t[1] / steps}));
        return new Result(batch, context, steps, stepMillis, ops, model.kvFormat().dtype().label());
    }

    /** One decode step: every sequence's token at position {@code context}, each sampling (its logits are made). */
    private static void decode(Transformer forward, KvPool kv, StepBatch step, int[][] tokens, int[][] tables,
                               int context, float[] logits) {
        step.clear();
        for (int s = 0; s < tokens.length; s++) {
            step.addSequence(tokens[s], context, 1, tables[s], BLOCK_SIZE);
            step.markLogits(step.rows - 1);
        }
        forward.forward(step, kv, logits);
    }
}
