package io.nemotron.core.backend.cuda;

import io.nemotron.core.testing.CudaAvailability;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * The CUDA backend on the reference checkpoints, through the same {@link Transformer} as the CPU backend, checked two
 * ways:
 * <ul>
 *   <li>op by op against its BF16 oracle ({@link LockstepBackend} over {@link Bf16ActivationsBackend}: the CPU backend
 *       rounding every activation to BF16 where the kernels do): every op of every step, on identical inputs, equal
 *       but for rare one-ulp rounding flips from FP32 summation order, the logits within the FP32 dot-product bound;
 *   <li>end to end against the CPU backend (FP32 activations, the semantic reference) on the BF16-rounded weights the
 *       GPU holds: greedy ids equal, and those ids are the references' (llama2.c's, the float64 one's).
 * </ul>
 * Logits are not compared end to end with a tolerance. Measured on the emulator (max over every step of these tests):
 * |logit gpu - FP32 cpu| up to 0.25 on stories260K and 0.13 on nemotron-nas-tiny (logits about ±11), and the BF16
 * oracle, which shares no code path with the GPU, is just as far from the FP32 CPU (0.25, 0.13): that distance is BF16
 * activations themselves, never bounded by the 2e-2 this test used to assert. Nor can the GPU be held tightly to the
 * oracle end to end: their first differing rounding (a one-ulp flip from FP32 summation order) cascades through the
 * residual stream and the KV cache, and free-running they drift as far apart (0.32, 0.07), while every op compared on
 * identical inputs agrees bit for bit except for one-ulp flips in a few of every 10^4 attention and norm outputs.
 * Needs a GPU and cuBLAS (or the emulator): skipped, with the reason, elsewhere. Runs from the GPU bundle
 * (scripts/gpu-run.sh runs every test tagged gpu).
 */
@Tag("gpu")
class CudaBackendGpuTest {
    private static final String STORIES = "stories260k/hf";
    private static final String TINY_F32 = "nemotron-nas-tiny/nas-tiny-a-f32";
    private static final String TINY_BF16 = "nemotron-nas-tiny/nas-tiny-a-bf16";
    private static CudaDevice device;

    @BeforeAll
    static void open() {
        CudaAvailability.assumeDevice();
        device = CudaDevice.open(0);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    /**
     * One checkpoint on the CPU (FP32 activations, on the BF16 rounding of the weights) and on the GPU (on the
     * checkpoint, checked op by op against the BF16 oracle on the rounded weights).
     */
    private static final class Pair implements AutoCloseable {
        final String dir;
        final ModelConfig config;
        final SafetensorsReader reader;
        final Arena arena = Arena.ofShared();
        final CpuBackend cpuBackend;
        final Transformer cpu;
        final CudaBackend gpuBackend;
        final LockstepBackend lockstep;
        final Transformer gpu;

        Pair(String dir, int maxRows) {
            this.dir = dir;
            Path path = Reference.existing(dir);
            config = ModelConfigLoader.load(path);
            reader = SafetensorsReader.open(path);
            ModelWeights w = ModelWeights.from(config, reader);
            Map<Tensor, Tensor> roundedOf = new IdentityHashMap<>();
            ModelWeights rounded = roundedToBf16(w, arena, roundedOf);
            cpuBackend = new CpuBackend(config, rounded.embedTokens(), 2, maxRows);
            cpu = new Transformer(config, rounded, cpuBackend);
            gpuBackend = new CudaBackend(config, w, device, maxRows);
            Bf16ActivationsBackend oracle = new Bf16ActivationsBackend(config,
                    new CpuBackend(config, rounded.embedTokens(), 2, maxRows), roundedOf);
            lockstep = new LockstepBackend(config, gpuBackend, oracle);
            gpu = new Transformer(config, w, lockstep);
        }

        /** Checks that rounding flips stayed rare over everything this pair ran, then frees it. */
        @Override
        public void close() {
            try {
                lockstep.assertFlipsRare(dir);
            } finally {
                lockstep.close();
                cpuBackend.close();
                reader.close();
                arena.close();
            }
        }
    }

    /** Every tensor of {@code w} rounded to BF16 (the upload's own conversion, checked by DeviceWeightsTest). */
    static ModelWeights roundedToBf16(ModelWeights w, Arena arena) {
        return roundedToBf16(w, arena, new IdentityHashMap<>());
    }

    /** As above, recording in {@code done} the rounded tensor of each tensor of {@code w}. */
    static ModelWeights roundedToBf16(ModelWeights w, Arena arena, Map<Tensor, Tensor> done) {
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

    /**
     * Greedy generation on both backends, each from its own tokens: prefill in chunks of {@code chunk}, then
     * {@code newTokens} decode steps. Asserts equal ids at every step (the GPU's ops are checked as they run).
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
    void greedyIdsMatchTheCpuBackendAndEveryOpTheBf16Oracle(String dir) {
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
     * One step of mixed work, every row's logits computed (each row's attention is checked, not only the last of a
     * chunk), every op against the BF16 oracle: sequence 0 prefills its second chunk, sequence 1 decodes after a
     * 40-token prefill, sequence 2 prefills from scratch; blocks out of order.
     */
    @ParameterizedTest
    @ValueSource(strings = {STORIES, TINY_BF16})
    void mixedPrefillAndDecodeStepMatchesTheBf16OracleOnEveryRow(String dir) {
        try (Pair m = new Pair(dir, 64)) {
            int vocab = m.config.vocabSize();
            int blockSize = 16;
            KvPool kv = m.gpu.newKvPool(16, blockSize);
            int[] t0 = tokens(30, 11, vocab);
            int[] t1 = tokens(41, 5, vocab);
            int[] t2 = tokens(9, 3, vocab);
            int[] b0 = {12, 3};
            int[] b1 = {7, 0, 14};
            int[] b2 = {5};
            StepBatch batch = new StepBatch(64, 64);
            float[] logits = new float[64 * vocab];
            // step 1: the earlier parts (sequence 0's first 17 tokens, sequence 1's first 40)
            batch.clear();
            batch.addSequence(t0, 0, 17, b0, blockSize);
            batch.addSequence(t1, 0, 40, b1, blockSize);
            runEveryRow(m, batch, kv, logits);
            // step 2: the mixed step
            batch.clear();
            batch.addSequence(t0, 17, 13, b0, blockSize);
            batch.addSequence(t1, 40, 1, b1, blockSize);
            batch.addSequence(t2, 0, 9, b2, blockSize);
            runEveryRow(m, batch, kv, logits);
        }
    }

    private static int[] tokens(int n, int seed, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = (int) ((i * 7919L + seed * 104729L) % vocab);
        }
        return t;
    }

    private static void runEveryRow(Pair m, StepBatch batch, KvPool kv, float[] logits) {
        for (int r = 0; r < batch.rows; r++) {
            batch.markLogits(r);
        }
        m.gpu.forward(batch, kv, logits);   // the lockstep backend asserts every op and every row's logits
    }
}
