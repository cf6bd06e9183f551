package io.nemotron.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.NasFloat64Reference;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Issue 17, must-show 1: a ModelOpt-FP8 nemotron-nas checkpoint (every block variant, calibrated scales, lm_head
 * excluded) served by the CPU backend at TP 1 and 2 gives the greedy ids of an independent float64 implementation of
 * vLLM's FP8 linear numerics, and logits close to it.
 */
class Fp8ReferenceTest {
    private static final String CASES = "nemotron-nas-tiny/nas-tiny-a-f32/expected.json";
    private static final int STEPS = 24;

    @TempDir
    static Path work;
    static Path fp8;
    static ModelConfig config;
    static int[][] prompts;
    static int[][] expectedIds;
    static double[][] expectedLast;   // float64 logits after each prompt

    @BeforeAll
    static void writeCheckpointAndReference() {
        fp8 = TinyFp8Checkpoint.write(work.resolve("nas-tiny-fp8"), false);
        config = ModelConfigLoader.load(fp8);
        JsonNode cases = Reference.json(CASES).get("cases");
        prompts = new int[cases.size()][];
        expectedIds = new int[cases.size()][];
        expectedLast = new double[cases.size()][];
        try (SafetensorsReader w = SafetensorsReader.open(fp8)) {
            NasFloat64Reference ref = new NasFloat64Reference(config, w, false);
            for (int c = 0; c < prompts.length; c++) {
                prompts[c] = Reference.ints(cases.get(c).get("prompt_ids"));
                double[][] all = ref.forward(prompts[c]);
                expectedLast[c] = all[all.length - 1];
                expectedIds[c] = ref.greedy(prompts[c], STEPS);
            }
        }
    }

    @Test
    void theFloat64ReferenceItselfMatchesTheSharedNasOracleWithoutQuantization() {
        // the reference implementation checked against the shared float64 expectations (6 decimals) on F32 weights
        Path dir = Reference.tinyF32();
        JsonNode cases = Reference.json(CASES).get("cases");
        try (SafetensorsReader w = SafetensorsReader.open(dir)) {
            NasFloat64Reference ref = new NasFloat64Reference(ModelConfigLoader.load(dir), w, false);
            for (JsonNode c : cases) {
                int[] prompt = Reference.ints(c.get("prompt_ids"));
                double[][] all = ref.forward(prompt);
                JsonNode last = c.get("prefill_logits_last");
                for (int v = 0; v < last.size(); v++) {
                    assertEquals(last.get(v).asDouble(), all[all.length - 1][v], 1e-5, "logit " + v);
                }
                int[] greedy = Reference.ints(c.get("greedy_output_ids"));
                assertArrayEquals(greedy, ref.greedy(prompt, greedy.length));
            }
        }
    }

    @Test
    void theCheckpointIsModelOptFp8WithEveryLinearQuantizedButTheHead() {
        try (SafetensorsReader w = SafetensorsReader.open(fp8)) {
            assertEquals(DType.BF16, w.tensor("lm_head.weight").dtype());
            assertEquals(DType.BF16, w.tensor("model.embed_tokens.weight").dtype());
            for (String linear : new String[] {"model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj",
                    "model.layers.2.self_attn.linear_attn", "model.layers.2.mlp.linear_mlp", "model.layers.5.self_attn.v_proj"}) {
                assertEquals(DType.F8_E4M3, w.tensor(linear + ".weight").dtype(), linear);
                assertEquals(0, w.tensor(linear + ".input_scale").shape().length, linear);
            }
        }
        // the quantization is not a no-op: the FP8 model's logits move away from the BF16 model's
        double[][] bf16;
        try (SafetensorsReader w = SafetensorsReader.open(Reference.tinyBf16())) {
            bf16 = new NasFloat64Reference(config, w, false).forward(prompts[0]);
        }
        double moved = 0;
        for (int v = 0; v < config.vocabSize(); v++) {
            moved = Math.max(moved, Math.abs(bf16[bf16.length - 1][v] - expectedLast[0][v]));
        }
        assertTrue(moved > 1e-2, "FP8 logits equal the BF16 ones within " + moved);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void cpuBackendGivesTheReferenceGreedyIdsAndLogits(int tensorParallel) {
        try (LoadedModel m = LoadedModel.openCpu(fp8, 2, 64, tensorParallel)) {
            double worst = 0;
            for (int c = 0; c < prompts.length; c++) {
                SingleSequence seq = new SingleSequence(m.forwardPass(), prompts[c].length + STEPS);
                float[] logits = new float[config.vocabSize()];
                seq.forward(prompts[c], prompts[c].length, logits);
                for (int v = 0; v < logits.length; v++) {
                    worst = Math.max(worst, Math.abs(logits[v] - expectedLast[c][v]));
                }
                int[] ids = new int[STEPS];
                for (int s = 0; s < STEPS; s++) {
                    ids[s] = NasFloat64Reference.argmax(toDouble(logits));
                    if (s + 1 < STEPS) {
                        seq.forward(new int[] {ids[s]}, 1, logits);
                    }
                }
                assertArrayEquals(expectedIds[c], ids, "case " + c + " at TP " + tensorParallel);
            }
            System.out.println("FP8 TP " + tensorParallel + ": max |logit - float64| after the prompt = " + worst);
            assertTrue(worst <= LOGIT_BOUND, "max |logit - float64 reference| = " + worst);
        }
    }

    /**
     * The shared oracle's own tolerance for an FP32 implementation of this model against float64 (its README: 1e-3 on
     * logits). FP8 adds no rounding the reference does not make too; the one thing that could move a logit further is
     * an activation whose x / input_scale falls within FP32 rounding of an E4M3 rounding boundary, flipping its code by
     * one step (1/16 of its value), and that shows as a jump well above 1e-3. Measured: 4.5e-6 at TP 1 and 2.
     */
    static final double LOGIT_BOUND = 1e-3;

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
