package io.nemotron.core.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.model.KvScales;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.SingleSequence;
import io.nemotron.core.runtime.CudaRanks;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.NasFloat64Reference;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import io.nemotron.core.weights.SafetensorsReader;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/**
 * Issue 17, must-show 1 on the CUDA backend: the tiny ModelOpt-FP8 nemotron-nas checkpoint (every block variant, FP8
 * linears through the dequantizing path, lm_head BF16) at TP 1 and 2, with decode graphs on and off, against the
 * independent float64 implementation of vLLM's FP8 linear numerics ({@link NasFloat64Reference}).
 *
 * <p>Teacher-forced along the reference's greedy ids, not free-running: the CUDA backend keeps BF16 activations (as
 * vLLM's FP8 linear does on a BF16 model), and quantizing a BF16-rounded activation lands on the neighbouring E4M3
 * value (2^-3 of it away) wherever the BF16 rounding crossed an E4M3 rounding boundary; the reference quantizes float64
 * activations. On this checkpoint the reference's top two logits are as close as 0.008 at some steps, far inside that
 * noise, so free-running ids may part there without any fault. Instead every step's logits must stay within
 * {@link #LOGIT_BOUND} of the reference's (so the argmax is the reference's wherever its top-two margin exceeds twice
 * the bound).
 *
 * <p>The bound: the BF16 checkpoint on this backend stays within 0.125 of its float64 reference (BF16 rounding alone,
 * measured); E4M3 boundary flips move about one input in a hundred by 2^-3 of itself, about ten times the BF16
 * rounding's spread (2^-9). The worst seen over these cases on the emulator is 0.78 at TP 1 and 0.83 at TP 2 (another
 * summation order), and 0.96 with the FP8 KV cache at TP 2 (its cached K/V flip the same way). 1.25 leaves about a
 * quarter for a GPU's other summation orders. The ops themselves are held to exact bounds separately
 * (Fp8LinearParityGpuTest, Fp8KvCacheGpuTest); this test checks that they are wired to the right tensors, scales and
 * layers at each tensor-parallel size, with and without graphs.
 */
@Tag("gpu")
@Timeout(600)
class CudaFp8CheckpointGpuTest {
    private static final String CASES = "nemotron-nas-tiny/nas-tiny-a-f32/expected.json";
    private static final int STEPS = 24;
    private static final int MAX_ROWS = 16;
    static final double LOGIT_BOUND = 1.25;

    @TempDir
    static Path work;
    static ModelConfig config;
    static int[][] prompts;
    static Expected bf16Kv;    // the FP8 checkpoint, K/V kept exactly (the reference's float64; BF16 on the GPU)
    static Expected fp8Kv;     // the FP8 checkpoint with k/v scales, K/V read back as E4M3(x / scale) · scale

    /**
     * A checkpoint and what the float64 reference computes on it: the greedy ids and, for each step, the logits
     * before that id ([case][step][vocab]).
     */
    record Expected(Path dir, int[][] ids, double[][][] logits) {}

    @BeforeAll
    static void writeCheckpointsAndReferences() {
        CudaAvailability.assumeDevice();
        JsonNode cases = Reference.json(CASES).get("cases");
        prompts = new int[cases.size()][];
        for (int c = 0; c < prompts.length; c++) {
            prompts[c] = Reference.ints(cases.get(c).get("prompt_ids"));
        }
        bf16Kv = expected(TinyFp8Checkpoint.write(work.resolve("nas-tiny-fp8"), false), false);
        fp8Kv = expected(TinyFp8Checkpoint.write(work.resolve("nas-tiny-fp8-kv"), true), true);
    }

    private static Expected expected(Path dir, boolean kvCacheFp8) {
        config = ModelConfigLoader.load(dir);
        int[][] ids = new int[prompts.length][];
        double[][][] logits = new double[prompts.length][][];
        try (SafetensorsReader w = SafetensorsReader.open(dir)) {
            NasFloat64Reference ref = new NasFloat64Reference(config, w, kvCacheFp8);
            for (int c = 0; c < prompts.length; c++) {
                ids[c] = ref.greedy(prompts[c], STEPS);
                int[] all = Arrays.copyOf(prompts[c], prompts[c].length + STEPS);
                System.arraycopy(ids[c], 0, all, prompts[c].length, STEPS);
                double[][] l = ref.forward(all);
                logits[c] = Arrays.copyOfRange(l, prompts[c].length - 1, prompts[c].length - 1 + STEPS);
            }
        }
        return new Expected(dir, ids, logits);
    }

    @ParameterizedTest
    @CsvSource({"1, true", "2, true", "1, false"})
    void fp8CheckpointFollowsTheFloat64ReferenceTeacherForced(int tensorParallel, boolean graphs) {
        try (LoadedModel m = LoadedModel.openCuda(bf16Kv.dir(), 0, MAX_ROWS, tensorParallel,
                graphs ? CudaGraphs.on() : CudaGraphs.OFF)) {
            assertEquals(tensorParallel, m.tensorParallel());
            followsTheReference(m.forwardPass(), bf16Kv, "TP " + tensorParallel + (graphs ? " with" : " without")
                    + " decode graphs");
        }
    }

    /**
     * The same checkpoint calibrated with k/v scales, on an FP8 KV cache ({@code --kv-cache-dtype fp8}: CudaRanks with
     * the checkpoint's {@link KvScales}), against the reference that reads K/V back as E4M3(x / scale) · scale. The
     * same bound: the cached codes are the reference's wherever the BF16 K/V rounds to the same E4M3 value, and a
     * boundary flip moves one cached element by 2^-3 of itself, as a flipped linear input does.
     */
    @ParameterizedTest
    @CsvSource({"1, true", "2, true", "2, false"})
    void fp8KvCacheFollowsTheFloat64ReferenceTeacherForced(int tensorParallel, boolean graphs) {
        ModelConfig c = ModelConfigLoader.load(fp8Kv.dir());
        try (SafetensorsReader w = SafetensorsReader.open(fp8Kv.dir()); Arena arena = Arena.ofShared()) {
            KvCacheFormat format = KvScales.read(c, w).format(KvCacheDtype.FP8);
            assertTrue(format.kScale(0) != 1f, "the checkpoint carries calibrated k scales");
            CudaRanks ranks = CudaRanks.open(0, tensorParallel, MAX_ROWS, graphs ? CudaGraphs.on() : CudaGraphs.OFF,
                    format);
            try (TensorParallelTransformer model = TensorParallelTransformer.of(c, ModelWeights.from(c, w), ranks,
                    arena)) {
                // rank 0's K and V at one byte an element: nas-tiny's FULL layers have 4, 2 and 1 kv heads of 16
                int rankKvHeads = tensorParallel == 1 ? 4 + 2 + 1 : 2 + 1 + 1;
                assertEquals(2L * rankKvHeads * 16 * 16, model.rank(0).backend().kvBytesPerBlock(16),
                        "KV bytes per block of 16");
                followsTheReference(model, fp8Kv, "FP8 KV, TP " + tensorParallel + (graphs ? " with" : " without")
                        + " decode graphs");
            }
        }
    }

    /**
     * Teacher-forced along the reference's ids: every logit of every step within {@link #LOGIT_BOUND} of the
     * reference's. (Where the reference's top-two margin exceeds twice the bound, that already implies the same argmax;
     * how often the argmax agrees elsewhere is printed, not asserted: those steps are near-ties.)
     */
    private static void followsTheReference(ForwardPass model, Expected expected, String run) {
        int[][] expectedIds = expected.ids();
        double[][][] expectedLogits = expected.logits();
        double worst = 0;
        int agree = 0;
        for (int c = 0; c < prompts.length; c++) {
            SingleSequence seq = new SingleSequence(model, prompts[c].length + STEPS);
            float[] logits = new float[config.vocabSize()];
            seq.forward(prompts[c], prompts[c].length, logits);
            for (int s = 0; s < STEPS; s++) {
                double[] ref = expectedLogits[c][s];
                for (int v = 0; v < ref.length; v++) {
                    double d = Math.abs(logits[v] - ref[v]);
                    worst = Math.max(worst, d);
                    if (!(d <= LOGIT_BOUND)) {
                        fail(run + ", case " + c + " step " + s + ": logit " + v + " is " + logits[v]
                                + ", the float64 reference " + ref[v]);
                    }
                }
                agree += argmax(logits) == expectedIds[c][s] ? 1 : 0;
                if (s + 1 < STEPS) {
                    seq.forward(new int[] {expectedIds[c][s]}, 1, logits);
                }
            }
        }
        System.out.printf("FP8 on CUDA, %s: max |logit - float64| = %.4f; argmax = the reference's id at %d of %d"
                + " steps%n", run, worst, agree, prompts.length * STEPS);
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
