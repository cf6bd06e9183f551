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
import io.nemotron.core.testing.Precision;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import io.nemotron.core.weights.SafetensorsReader;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/**
 * Issue 17, must-show 1 on the CUDA backend: the tiny ModelOpt-FP8 nemotron-nas checkpoint (every block variant, FP8
 * linears through the dequantizing path, lm_head BF16) at TP 1 and 2, with decode graphs on and off, on a BF16 and an
 * FP8 KV cache, gives the greedy ids and the logits of an independent float64 implementation of vLLM's FP8 linear
 * numerics ({@link NasFloat64Reference}) in the precision the CUDA backend keeps: BF16 activations
 * ({@link Precision.Bf16Activations}: the oracle rounds where the kernels store BF16, quantizes FP8 inputs from those
 * BF16 values, and sums the row-parallel linears' per-rank BF16 partial sums at the test's TP size).
 *
 * <p>What can still differ is the FP32 arithmetic inside each kernel against the oracle's float64 before each
 * rounding: where a value lies within that difference of a BF16 midpoint, the device stores the neighbouring BF16
 * value, and the change travels on (an FP8 input may cross an E4M3 midpoint with it, a 2^-3 step). The bound is derived
 * per checkpoint, KV cache and TP size from that model ({@link Precision.Fp32Noise}): every inexact value of the oracle
 * is moved by a relative jitter of up to {@link #FP32_EPSILON} = 2^-16 before its rounding, the worst-case error
 * γ_K = K · 2^-24 of an FP32 sum of K = 256 terms (the widest dot product of nas-tiny: intermediate 256, hidden 128;
 * rsqrtf, expf, exp2f and the float cos / sin of RoPE are a few ulp, below 2^-21), over {@link #NOISE_SEEDS} seeds;
 * the largest movement of any logit is the bound. Not doubled: the model already assumes every inexact value off by
 * the worst case, which flips about 570 of the 749,000 roundings of the two cases (the FP8 path on the emulator flips
 * none), and the movement saturates rather than grows with the error: over every position of the two cases at TP 1,
 * the largest over 8 seeds is 0.46 at 2^-20, 0.55 at 2^-18 and 0.65 at 2^-16 on the FP8 checkpoint, and 0.12, 0.13,
 * 0.17 on the BF16 one. That one's BF16 GEMMs (products of 8-bit significands, not exact in FP32 as E4M3 products are)
 * differ by 0.078 at TP 1 and 0.098 at TP 2 on the emulator, the model's size at 2^-20 (0.087 to 0.119 over the
 * seeds), the typical √K · 2^-24 error; the bounds at 2^-16 over the generated steps come to 0.58 to 0.72 for the FP8
 * checkpoint (by TP size and KV cache) and 0.15 to 0.17 for the BF16 one.
 *
 * <p>Every teacher-forced logit must be within the bound, and free-running ids must be the oracle's at every step
 * whose oracle top-two margin exceeds twice the bound (a case may part from the oracle only at such a near-tie, after
 * which its contexts differ and it is not compared further). How many steps match exactly (every logit within
 * {@link #EXACT}) is printed. The BF16 nas checkpoint on the same backend and oracle checks the oracle's BF16 mode
 * apart from FP8.
 *
 * <p>What the bound cannot resolve: a few flipped roundings move a logit by up to about 0.4 on this model (0.16 to 0.37
 * with 3 to 9 flips, the model at 2^-22), so a modelling error of that size stays inside it: an oracle that left out
 * the TP-2 partial-sum rounding differs from this backend by 0.61 (BF16 KV) and 0.69 (FP8 KV), within 0.66 and 0.80.
 * On the emulator the FP8 path in fact matches to 3e-6 at every step of every run, ids included, but nothing derived
 * excludes a flip on another summation order, so that is printed, not asserted.
 */
@Tag("gpu")
@Timeout(600)
class CudaFp8CheckpointGpuTest {
    private static final String CASES = "nemotron-nas-tiny/nas-tiny-a-f32/expected.json";
    private static final int STEPS = 24;
    private static final int MAX_ROWS = 16;
    static final double FP32_EPSILON = 0x1p-16;   // γ_256 = 256 · 2^-24
    static final int NOISE_SEEDS = 8;
    /**
     * A step whose logits are all within this of the oracle's is reported as matching exactly: what the FP32 logits
     * alone explain (the lm_head's FP32 sum of 128 terms and its float result, relative errors of 2^-24 each, on logits
     * of magnitude 10 or less: 1e-6 each), with room for the sum's order; a flipped rounding upstream moves them more.
     */
    static final double EXACT = 1e-4;

    @TempDir
    static Path work;
    static int[][] prompts;
    static Path bf16KvDir;    // the FP8 checkpoint, K/V cached as BF16
    static Path fp8KvDir;     // the FP8 checkpoint with k/v scales, K/V cached as E4M3(x / scale) · scale
    static final Map<String, Expected> oracles = new HashMap<>();

    /**
     * What the oracle computes on a checkpoint at one tensor-parallel size: the greedy ids, for each step the logits
     * before that id ([case][step][vocab]), and the bound: the largest movement of those logits under the FP32 noise
     * model.
     */
    record Expected(int[][] ids, double[][][] logits, double bound) {}

    @BeforeAll
    static void writeCheckpoints() {
        CudaAvailability.assumeDevice();
        JsonNode cases = Reference.json(CASES).get("cases");
        prompts = new int[cases.size()][];
        for (int c = 0; c < prompts.length; c++) {
            prompts[c] = Reference.ints(cases.get(c).get("prompt_ids"));
        }
        bf16KvDir = TinyFp8Checkpoint.write(work.resolve("nas-tiny-fp8"), false);
        fp8KvDir = TinyFp8Checkpoint.write(work.resolve("nas-tiny-fp8-kv"), true);
    }

    /** The oracle on {@code dir} at {@code tensorParallel} ranks, with its FP32 noise (computed once per pair). */
    static synchronized Expected oracle(Path dir, boolean kvCacheFp8, int tensorParallel) {
        return oracles.computeIfAbsent(dir + " " + tensorParallel, key -> {
            ModelConfig config = ModelConfigLoader.load(dir);
            int[][] ids = new int[prompts.length][];
            int[][] sequences = new int[prompts.length][];
            double[][][] logits = new double[prompts.length][][];
            try (SafetensorsReader w = SafetensorsReader.open(dir)) {
                NasFloat64Reference ref = new NasFloat64Reference(config, w, kvCacheFp8,
                        new Precision.Bf16Activations(tensorParallel));
                for (int c = 0; c < prompts.length; c++) {
                    ids[c] = ref.greedy(prompts[c], STEPS);
                    sequences[c] = Arrays.copyOf(prompts[c], prompts[c].length + STEPS);
                    System.arraycopy(ids[c], 0, sequences[c], prompts[c].length, STEPS);
                    logits[c] = steps(ref.forward(sequences[c]), prompts[c].length);
                }
                double noise = 0;
                for (int seed = 0; seed < NOISE_SEEDS; seed++) {
                    NasFloat64Reference jittered = new NasFloat64Reference(config, w, kvCacheFp8,
                            new Precision.Fp32Noise(tensorParallel, FP32_EPSILON, seed));
                    for (int c = 0; c < prompts.length; c++) {
                        noise = Math.max(noise, maxDiff(steps(jittered.forward(sequences[c]), prompts[c].length),
                                logits[c]));
                    }
                }
                return new Expected(ids, logits, noise);
            }
        });
    }

    /** The rows of {@code all} that predict the generated ids (the last prompt position on). */
    private static double[][] steps(double[][] all, int promptLength) {
        return Arrays.copyOfRange(all, promptLength - 1, promptLength - 1 + STEPS);
    }

    private static double maxDiff(double[][] a, double[][] b) {
        double worst = 0;
        for (int s = 0; s < a.length; s++) {
            for (int v = 0; v < a[s].length; v++) {
                worst = Math.max(worst, Math.abs(a[s][v] - b[s][v]));
            }
        }
        return worst;
    }

    @ParameterizedTest
    @CsvSource({"1, true", "2, true", "1, false"})
    void fp8CheckpointGivesTheOraclesIdsAndLogits(int tensorParallel, boolean graphs) {
        Expected expected = oracle(bf16KvDir, false, tensorParallel);
        String run = "TP " + tensorParallel + (graphs ? " with" : " without") + " decode graphs";
        for (boolean teacherForced : new boolean[] {true, false}) {
            try (LoadedModel m = LoadedModel.openCuda(bf16KvDir, 0, MAX_ROWS, tensorParallel,
                    graphs ? CudaGraphs.on() : CudaGraphs.OFF)) {
                assertEquals(tensorParallel, m.tensorParallel());
                follow(m.forwardPass(), expected, run, teacherForced);
            }
        }
    }

    /**
     * The same checkpoint calibrated with k/v scales, on an FP8 KV cache ({@code --kv-cache-dtype fp8}: CudaRanks with
     * the checkpoint's {@link KvScales}), against the oracle that caches E4M3(fl32(x / scale)) of the BF16 K (after
     * RoPE) and V.
     */
    @ParameterizedTest
    @CsvSource({"1, true", "2, true", "2, false"})
    void fp8KvCacheGivesTheOraclesIdsAndLogits(int tensorParallel, boolean graphs) {
        Expected expected = oracle(fp8KvDir, true, tensorParallel);
        String run = "FP8 KV, TP " + tensorParallel + (graphs ? " with" : " without") + " decode graphs";
        for (boolean teacherForced : new boolean[] {true, false}) {
            ModelConfig c = ModelConfigLoader.load(fp8KvDir);
            try (SafetensorsReader w = SafetensorsReader.open(fp8KvDir); Arena arena = Arena.ofShared()) {
                KvCacheFormat format = KvScales.read(c, w).format(KvCacheDtype.FP8);
                assertTrue(format.kScale(0) != 1f, "the checkpoint carries calibrated k scales");
                CudaRanks ranks = CudaRanks.open(0, tensorParallel, MAX_ROWS,
                        graphs ? CudaGraphs.on() : CudaGraphs.OFF, format);
                try (TensorParallelTransformer model = TensorParallelTransformer.of(c, ModelWeights.from(c, w), ranks,
                        arena)) {
                    // rank 0's K and V at one byte an element: nas-tiny's FULL layers have 4, 2 and 1 kv heads of 16
                    int rankKvHeads = tensorParallel == 1 ? 4 + 2 + 1 : 2 + 1 + 1;
                    assertEquals(2L * rankKvHeads * 16 * 16, model.rank(0).backend().kvBytesPerBlock(16),
                            "KV bytes per block of 16");
                    follow(model, expected, run, teacherForced);
                }
            }
        }
    }

    /**
     * The oracle's BF16 mode apart from FP8: the BF16 nas checkpoint (every linear a cuBLAS BF16 GEMM, whose products
     * of BF16 values are not exact in FP32 as the FP8 ones are, so more roundings are at risk) on the same backend.
     */
    @ParameterizedTest
    @CsvSource({"1", "2"})
    void bf16CheckpointGivesTheOraclesIdsAndLogits(int tensorParallel) {
        Expected expected = oracle(Reference.tinyBf16(), false, tensorParallel);
        String run = "BF16 checkpoint, TP " + tensorParallel;
        for (boolean teacherForced : new boolean[] {true, false}) {
            try (LoadedModel m = LoadedModel.openCuda(Reference.tinyBf16(), 0, MAX_ROWS, tensorParallel,
                    CudaGraphs.on())) {
                follow(m.forwardPass(), expected, run, teacherForced);
            }
        }
    }

    /**
     * Teacher-forced (fed the oracle's ids): every logit of every step within the bound. Free-running (fed its own
     * argmax): its id is the oracle's at every step until one whose oracle margin is at most twice the bound, where it
     * may part (and the case ends there).
     */
    private static void follow(ForwardPass model, Expected expected, String run, boolean teacherForced) {
        double bound = expected.bound();
        int vocab = expected.logits()[0][0].length;
        double worst = 0;
        int exact = 0;
        int same = 0;
        int decisive = 0;   // steps whose oracle margin exceeds twice the bound: the ids there must agree
        StringBuilder parted = new StringBuilder();
        for (int c = 0; c < prompts.length; c++) {
            SingleSequence seq = new SingleSequence(model, prompts[c].length + STEPS);
            float[] logits = new float[vocab];
            seq.forward(prompts[c], prompts[c].length, logits);
            for (int s = 0; s < STEPS; s++) {
                double[] ref = expected.logits()[c][s];
                double stepWorst = 0;
                for (int v = 0; v < vocab; v++) {
                    double d = Math.abs(logits[v] - ref[v]);
                    stepWorst = Math.max(stepWorst, d);
                    if (!(d <= bound)) {
                        fail(run + ", case " + c + " step " + s + ": logit " + v + " is " + logits[v] + ", the oracle's "
                                + ref[v] + " (bound " + bound + ")");
                    }
                }
                worst = Math.max(worst, stepWorst);
                exact += stepWorst <= EXACT ? 1 : 0;
                int id = argmax(logits);
                int expectedId = expected.ids()[c][s];
                double margin = NasFloat64Reference.margin(ref);
                decisive += margin > 2 * bound ? 1 : 0;
                if (id == expectedId) {
                    same++;
                } else if (margin > 2 * bound) {
                    fail(run + ", case " + c + " step " + s + ": id " + id + ", the oracle's " + expectedId
                            + " with a top-two margin of " + margin + " > twice the bound " + bound);
                } else if (!teacherForced) {
                    parted.append(String.format("; case %d parts at step %d (oracle margin %.4f)", c, s, margin));
                    break;
                }
                if (s + 1 < STEPS) {
                    seq.forward(new int[] {teacherForced ? expectedId : id}, 1, logits);
                }
            }
        }
        System.out.printf("BF16-activation oracle, %s, %s: max |logit - oracle| = %.2e (bound %.3f, the FP32 noise"
                + " model); of %d steps, logits within %.0e at %d, ids the oracle's at %d (asserted at the %d whose"
                + " margin exceeds twice the bound)%s%n", run, teacherForced ? "teacher-forced" : "free-running", worst,
                bound, prompts.length * STEPS, EXACT, exact, same, decisive, parted);
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
