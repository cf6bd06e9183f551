package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.BlockWeights;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.SingleSequence;
import io.nemotron.core.model.Transformer;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.SafetensorsReader;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * The CUDA backend against the CPU backend (the semantic reference) on the reference checkpoints, through the same
 * {@link Transformer}. The CPU side runs on the BF16-rounded weights the GPU holds (so only activation precision
 * differs: BF16 on the GPU, FP32 on the CPU): greedy ids equal, logits within 2e-2. Needs a GPU and cuBLAS: skipped,
 * with the reason, elsewhere. Runs from the GPU bundle (scripts/gpu-run.sh runs every test tagged gpu).
 */
@Tag("gpu")
class CudaBackendGpuTest {
    private static final double LOGIT_TOLERANCE = 2e-2;
    private static final String STORIES = "stories260k/hf";
    private static final String TINY_F32 = "nemotron-nas-tiny/nas-tiny-a-f32";
    private static final String TINY_BF16 = "nemotron-nas-tiny/nas-tiny-a-bf16";
    private static CudaDevice device;

    @BeforeAll
    static void open() {
        Optional<String> why = CudaDevice.unavailableReason();
        assumeTrue(why.isEmpty(), () -> "no GPU: " + why.orElse(""));
        device = CudaDevice.open(0);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    /** One checkpoint on both backends: the CPU on the BF16 rounding of the weights, the GPU on the checkpoint. */
    private static final class Pair implements AutoCloseable {
        final ModelConfig config;
        final SafetensorsReader reader;
        final Arena arena = Arena.ofShared();
        final CpuBackend cpuBackend;
        final Transformer cpu;
        final CudaBackend gpuBackend;
        final Transformer gpu;

        Pair(String dir, int maxRows) {
            Path path = Reference.existing(dir);
            config = ModelConfigLoader.load(path);
            reader = SafetensorsReader.open(path);
            ModelWeights w = ModelWeights.from(config, reader);
            ModelWeights rounded = roundedToBf16(w, arena);
            cpuBackend = new CpuBackend(config, rounded.embedTokens(), 2, maxRows);
            cpu = new Transformer(config, rounded, cpuBackend);
            gpuBackend = new CudaBackend(config, w, device, maxRows);
            gpu = new Transformer(config, w, gpuBackend);
        }

        @Override
        public void close() {
            gpuBackend.close();
            cpuBackend.close();
            reader.close();
            arena.close();
        }
    }

    /** Every tensor of {@code w} rounded to BF16 (the upload's own conversion, checked by DeviceWeightsTest). */
    static ModelWeights roundedToBf16(ModelWeights w, Arena arena) {
        Map<Tensor, Tensor> done = new IdentityHashMap<>();
        java.util.function.UnaryOperator<Tensor> r = t -> t == null ? null : done.computeIfAbsent(t, x -> {
            int n = (int) x.numel();
            short[] bits = new short[n];
            DeviceWeights.toBf16(x, 0, bits, n);
            MemorySegment seg = arena.allocate(2L * n, 16);
            MemorySegment.copy(bits, 0, seg, ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, n);
            return new Tensor(x.name(), DType.BF16, x.shape().clone(), seg);
        });
        List<BlockWeights> blocks = new ArrayList<>();
        for (BlockWeights b : w.blocks()) {
            blocks.add(new BlockWeights(b.config(), r.apply(b.inputLayernorm()), r.apply(b.qProj()), r.apply(b.kProj()),
                    r.apply(b.vProj()), r.apply(b.oProj()), r.apply(b.linearAttn()), r.apply(b.postAttentionLayernorm()),
                    r.apply(b.gateProj()), r.apply(b.upProj()), r.apply(b.downProj()), r.apply(b.linearMlp())));
        }
        return new ModelWeights(r.apply(w.embedTokens()), blocks, r.apply(w.norm()), r.apply(w.lmHead()));
    }

    static int argmax(float[] x, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[from + i] > x[from + best]) {
                best = i;
            }
        }
        return best;
    }

    private static double maxAbsDiff(float[] a, float[] b, int n) {
        double worst = 0;
        for (int i = 0; i < n; i++) {
            worst = Math.max(worst, Math.abs((double) a[i] - b[i]));
        }
        return worst;
    }

    /**
     * Greedy generation on both backends, each from its own tokens: prefill in chunks of {@code chunk}, then
     * {@code newTokens} decode steps. Asserts equal ids and logits within tolerance at every step.
     */
    private static int[] greedyBoth(Pair m, int[] prompt, int newTokens, int chunk, String what) {
        int vocab = m.config.vocabSize();
        SingleSequence cpu = new SingleSequence(m.cpu, prompt.length + newTokens);
        SingleSequence gpu = new SingleSequence(m.gpu, prompt.length + newTokens);
        float[] lc = new float[vocab];
        float[] lg = new float[vocab];
        for (int done = 0; done < prompt.length; done += chunk) {
            int n = Math.min(chunk, prompt.length - done);
            int[] part = Arrays.copyOfRange(prompt, done, done + n);
            cpu.forward(part, n, lc);
            gpu.forward(part, n, lg);
        }
        int[] ids = new int[newTokens];
        for (int i = 0; i < newTokens; i++) {
            double diff = maxAbsDiff(lc, lg, vocab);
            assertTrue(diff <= LOGIT_TOLERANCE, what + ": max |logit gpu - cpu| = " + diff + " at generated token " + i);
            int c = argmax(lc, 0, vocab);
            int g = argmax(lg, 0, vocab);
            assertEquals(c, g, what + ": greedy id at generated token " + i);
            ids[i] = c;
            if (i + 1 < newTokens) {
                cpu.forward(new int[] {c}, 1, lc);
                gpu.forward(new int[] {g}, 1, lg);
            }
        }
        return ids;
    }

    @ParameterizedTest
    @ValueSource(strings = {STORIES, TINY_F32, TINY_BF16})
    void greedyIdsAndLogitsMatchTheCpuBackend(String dir) {
        try (Pair m = new Pair(dir, 64)) {
            if (dir.equals(STORIES)) {
                for (JsonNode c : Reference.json("stories260k/expected.json").get("cases")) {
                    int[] prompt = Reference.ints(c.get("prompt_ids"));
                    int[] expected = Reference.ints(c.get("generated_ids"));
                    int n = Math.min(expected.length, 64);
                    int[] ids = greedyBoth(m, prompt, n, 16, c.get("name").asString());
                    // and the CPU side, on BF16 weights, still follows llama2.c's reference
                    assertArrayEquals(Arrays.copyOf(expected, n), ids, c.get("name").asString());
                }
            } else {
                for (JsonNode c : Reference.json(dir + "/expected.json").get("cases")) {
                    int[] prompt = Reference.ints(c.get("prompt_ids"));
                    int[] greedy = Reference.ints(c.get("greedy_output_ids"));
                    int[] ids = greedyBoth(m, prompt, greedy.length, 5, dir);
                    if (dir.equals(TINY_BF16)) {
                        assertArrayEquals(greedy, ids, "float64 reference");
                    }
                }
            }
        }
    }

    /**
     * A prompt spanning 13 KV blocks of 16, prefilled in chunks of 7 (chunk edges inside blocks), then decoded with
     * split-KV (32-token partitions) and without.
     */
    @Test
    void longPromptAcrossManyBlocksWithChunkedPrefillAndSplitKvDecode() {
        JsonNode first = Reference.json("stories260k/expected.json").get("cases").get(0);
        int[] prompt = Arrays.copyOf(Reference.ints(first.get("generated_ids")), 200);
        try (Pair m = new Pair(STORIES, 64)) {
            int[] plain = greedyBoth(m, prompt, 24, 7, "long prompt, plain decode");
            m.gpuBackend.splitKv(32, 32);
            int[] split = greedyBoth(m, prompt, 24, 7, "long prompt, split-KV decode");
            assertArrayEquals(plain, split);
        }
    }

    /** The F32 checkpoint is rounded at upload to exactly the shipped BF16 one: identical GPU logits. */
    @Test
    void f32CheckpointRunsAsItsBf16Rounding() {
        JsonNode c = Reference.json(TINY_BF16 + "/expected.json").get("cases").get(0);
        int[] prompt = Reference.ints(c.get("prompt_ids"));
        float[] a = new float[256];
        float[] b = new float[256];
        try (Pair f = new Pair(TINY_F32, 64); Pair h = new Pair(TINY_BF16, 64)) {
            new SingleSequence(f.gpu, prompt.length).forward(prompt, prompt.length, a);
            new SingleSequence(h.gpu, prompt.length).forward(prompt, prompt.length, b);
        }
        assertArrayEquals(b, a);
    }

    /**
     * One step of mixed work on both backends, every row's logits compared: sequence 0 prefills its second chunk,
     * sequence 1 decodes after a 40-token prefill, sequence 2 prefills from scratch; blocks out of order.
     */
    @ParameterizedTest
    @ValueSource(strings = {STORIES, TINY_BF16})
    void mixedPrefillAndDecodeStepMatchesEveryRow(String dir) {
        try (Pair m = new Pair(dir, 64)) {
            int vocab = m.config.vocabSize();
            int blockSize = 16;
            KvPool cpuKv = m.cpu.newKvPool(16, blockSize);
            KvPool gpuKv = m.gpu.newKvPool(16, blockSize);
            int[] t0 = tokens(30, 11, vocab);
            int[] t1 = tokens(41, 5, vocab);
            int[] t2 = tokens(9, 3, vocab);
            int[] b0 = {12, 3};
            int[] b1 = {7, 0, 14};
            int[] b2 = {5};
            StepBatch batch = new StepBatch(64, 64);
            float[] lc = new float[64 * vocab];
            float[] lg = new float[64 * vocab];
            // step 1: the earlier parts (sequence 0's first 17 tokens, sequence 1's first 40)
            batch.clear();
            batch.addSequence(t0, 0, 17, b0, blockSize);
            batch.addSequence(t1, 0, 40, b1, blockSize);
            runBoth(m, batch, cpuKv, gpuKv, lc, lg, vocab, "step 1");
            // step 2: the mixed step
            batch.clear();
            batch.addSequence(t0, 17, 13, b0, blockSize);
            batch.addSequence(t1, 40, 1, b1, blockSize);
            batch.addSequence(t2, 0, 9, b2, blockSize);
            runBoth(m, batch, cpuKv, gpuKv, lc, lg, vocab, "mixed step");
        }
    }

    private static int[] tokens(int n, int seed, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = (int) ((i * 7919L + seed * 104729L) % vocab);
        }
        return t;
    }

    private static void runBoth(Pair m, StepBatch batch, KvPool cpuKv, KvPool gpuKv, float[] lc, float[] lg, int vocab,
                                String what) {
        for (int r = 0; r < batch.rows; r++) {
            batch.markLogits(r);   // every row: each one's attention is checked, not only the last of a chunk
        }
        m.cpu.forward(batch, cpuKv, lc);
        m.gpu.forward(batch, gpuKv, lg);
        for (int r = 0; r < batch.rows; r++) {
            double diff = maxAbsDiff(Arrays.copyOfRange(lc, r * vocab, (r + 1) * vocab),
                    Arrays.copyOfRange(lg, r * vocab, (r + 1) * vocab), vocab);
            assertTrue(diff <= LOGIT_TOLERANCE, what + ": row " + r + " max |logit gpu - cpu| = " + diff);
        }
    }
}
