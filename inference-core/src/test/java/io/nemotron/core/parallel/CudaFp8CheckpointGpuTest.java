package io.nemotron.core.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.SingleSequence;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.NasFloat64Reference;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import io.nemotron.core.weights.SafetensorsReader;
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
 * {@link #LOGIT_BOUND} of the reference's, and the argmax must be the reference's wherever its top-two margin exceeds
 * twice the bound (then no error within the bound can reorder them).
 *
 * <p>The bound: the BF16 checkpoint on this backend stays within 0.125 of its float64 reference (BF16 rounding alone,
 * measured); E4M3 boundary flips move about one input in a hundred by 2^-3 of itself, about ten times the BF16
 * rounding's spread (2^-9), and the worst seen over these cases is 0.78 at TP 1 and 0.83 at TP 2 (another summation
 * order). 1.0 leaves a fifth of headroom; a wrong scale, a missing alpha or an unquantized input moves the logits by
 * whole units. Each FP8 linear is held to its exact bound separately (Fp8LinearParityGpuTest).
 */
@Tag("gpu")
@Timeout(600)
class CudaFp8CheckpointGpuTest {
    private static final String CASES = "nemotron-nas-tiny/nas-tiny-a-f32/expected.json";
    private static final int STEPS = 24;
    private static final int MAX_ROWS = 16;
    static final double LOGIT_BOUND = 1.0;

    @TempDir
    static Path work;
    static Path fp8;
    static ModelConfig config;
    static int[][] prompts;
    static int[][] expectedIds;
    static double[][][] expectedLogits;   // [case][step][vocab]: the reference's logits before each greedy id

    @BeforeAll
    static void writeCheckpointAndReference() {
        CudaAvailability.assumeDevice();
        fp8 = TinyFp8Checkpoint.write(work.resolve("nas-tiny-fp8"), false);
        config = ModelConfigLoader.load(fp8);
        JsonNode cases = Reference.json(CASES).get("cases");
        prompts = new int[cases.size()][];
        expectedIds = new int[cases.size()][];
        expectedLogits = new double[cases.size()][][];
        try (SafetensorsReader w = SafetensorsReader.open(fp8)) {
            NasFloat64Reference ref = new NasFloat64Reference(config, w, false);
            for (int c = 0; c < prompts.length; c++) {
                prompts[c] = Reference.ints(cases.get(c).get("prompt_ids"));
                expectedIds[c] = ref.greedy(prompts[c], STEPS);
                int[] all = Arrays.copyOf(prompts[c], prompts[c].length + STEPS);
                System.arraycopy(expectedIds[c], 0, all, prompts[c].length, STEPS);
                double[][] logits = ref.forward(all);
                expectedLogits[c] = Arrays.copyOfRange(logits, prompts[c].length - 1, prompts[c].length - 1 + STEPS);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"1, true", "2, true", "1, false"})
    void fp8CheckpointFollowsTheFloat64ReferenceTeacherForced(int tensorParallel, boolean graphs) {
        try (LoadedModel m = LoadedModel.openCuda(fp8, 0, MAX_ROWS, tensorParallel,
                graphs ? CudaGraphs.on() : CudaGraphs.OFF)) {
            assertEquals(tensorParallel, m.tensorParallel());
            String run = "TP " + tensorParallel + (graphs ? " with" : " without") + " decode graphs";
            double worst = 0;
            int decided = 0;
            for (int c = 0; c < prompts.length; c++) {
                SingleSequence seq = new SingleSequence(m.forwardPass(), prompts[c].length + STEPS);
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
                    if (NasFloat64Reference.margin(ref) > 2 * LOGIT_BOUND) {
                        decided++;
                        assertEquals(expectedIds[c][s], argmax(logits), run + ", case " + c + " step " + s);
                    }
                    if (s + 1 < STEPS) {
                        seq.forward(new int[] {expectedIds[c][s]}, 1, logits);
                    }
                }
            }
            System.out.printf("FP8 on CUDA, %s: max |logit - float64| = %.4f; %d of %d steps with a top-two margin"
                    + " above %.1f, each the reference's id%n", run, worst, decided, prompts.length * STEPS,
                    2 * LOGIT_BOUND);
            // not vacuous: 8 of the 48 steps have a margin above 2.0 in the reference (their ids must all match)
            assertTrue(decided >= 8, "only " + decided + " steps decide the argmax");
        }
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
