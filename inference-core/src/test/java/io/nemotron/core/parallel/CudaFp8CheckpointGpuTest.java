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
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/** Exploratory. */
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
    static Path bf16KvDir;    // the FP8 checkpoint, K/V cached as BF16
    static Path fp8KvDir;     // the FP8 checkpoint with k/v scales, K/V cached as E4M3(x / scale)
    static final Map<String, Expected> oracles = new HashMap<>();

    /**
     * What the oracle computes on a checkpoint at one tensor-parallel size: the greedy ids and, for each step, the
     * logits before that id ([case][step][vocab]).
     */
    record Expected(int[][] ids, double[][][] logits) {}

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
        config = ModelConfigLoader.load(bf16KvDir);
    }

    static Expected oracle(Path dir, boolean kvCacheFp8, int tensorParallel) {
        return oracles.computeIfAbsent(dir + " " + tensorParallel, key -> {
            int[][] ids = new int[prompts.length][];
            double[][][] logits = new double[prompts.length][][];
            try (SafetensorsReader w = SafetensorsReader.open(dir)) {
                NasFloat64Reference ref = new NasFloat64Reference(config, w, kvCacheFp8,
                        new Precision.Bf16Activations(tensorParallel));
                for (int c = 0; c < prompts.length; c++) {
                    ids[c] = ref.greedy(prompts[c], STEPS);
                    int[] all = Arrays.copyOf(prompts[c], prompts[c].length + STEPS);
                    System.arraycopy(ids[c], 0, all, prompts[c].length, STEPS);
                    double[][] l = ref.forward(all);
                    logits[c] = Arrays.copyOfRange(l, prompts[c].length - 1, prompts[c].length - 1 + STEPS);
                }
            }
            return new Expected(ids, logits);
        });
    }

    @ParameterizedTest
    @CsvSource({"1, true", "2, true", "1, false"})
    void fp8CheckpointMatchesTheBf16ActivationOracle(int tensorParallel, boolean graphs) {
        Expected expected = oracle(bf16KvDir, false, tensorParallel);
        String run = "TP " + tensorParallel + (graphs ? " with" : " without") + " decode graphs";
        try (LoadedModel m = LoadedModel.openCuda(bf16KvDir, 0, MAX_ROWS, tensorParallel,
                graphs ? CudaGraphs.on() : CudaGraphs.OFF)) {
            assertEquals(tensorParallel, m.tensorParallel());
            teacherForced(m.forwardPass(), expected, run);
        }
        try (LoadedModel m = LoadedModel.openCuda(bf16KvDir, 0, MAX_ROWS, tensorParallel,
                graphs ? CudaGraphs.on() : CudaGraphs.OFF)) {
            freeRunning(m.forwardPass(), expected, run);
        }
    }

    @ParameterizedTest
    @CsvSource({"1, true", "2, true", "2, false"})
    void fp8KvCacheMatchesTheBf16ActivationOracle(int tensorParallel, boolean graphs) {
        Expected expected = oracle(fp8KvDir, true, tensorParallel);
        String run = "FP8 KV, TP " + tensorParallel + (graphs ? " with" : " without") + " decode graphs";
        withFp8Cache(tensorParallel, graphs, model -> teacherForced(model, expected, run));
        withFp8Cache(tensorParallel, graphs, model -> freeRunning(model, expected, run));
    }

    private static void withFp8Cache(int tensorParallel, boolean graphs, Consumer<ForwardPass> check) {
        ModelConfig c = ModelConfigLoader.load(fp8KvDir);
        try (SafetensorsReader w = SafetensorsReader.open(fp8KvDir); Arena arena = Arena.ofShared()) {
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
                check.accept(model);
            }
        }
    }

    private static void teacherForced(ForwardPass model, Expected expected, String run) {
        double worst = 0;
        int agree = 0;
        int close = 0;
        StringBuilder detail = new StringBuilder();
        for (int c = 0; c < prompts.length; c++) {
            SingleSequence seq = new SingleSequence(model, prompts[c].length + STEPS);
            float[] logits = new float[config.vocabSize()];
            seq.forward(prompts[c], prompts[c].length, logits);
            for (int s = 0; s < STEPS; s++) {
                double[] ref = expected.logits()[c][s];
                double stepWorst = 0;
                for (int v = 0; v < ref.length; v++) {
                    stepWorst = Math.max(stepWorst, Math.abs(logits[v] - ref[v]));
                }
                worst = Math.max(worst, stepWorst);
                close += stepWorst < 1e-3 ? 1 : 0;
                agree += argmax(logits) == expected.ids()[c][s] ? 1 : 0;
                detail.append(String.format(" %d/%d:%.1e(m%.3f)", c, s, stepWorst,
                        NasFloat64Reference.margin(ref)));
                if (s + 1 < STEPS) {
                    seq.forward(new int[] {expected.ids()[c][s]}, 1, logits);
                }
            }
        }
        System.out.printf("ORACLE %s: teacher-forced max |logit - oracle| = %.3e; within 1e-3 at %d, argmax the"
                + " oracle's at %d of %d steps%n  %s%n", run, worst, close, agree, prompts.length * STEPS, detail);
    }

    private static void freeRunning(ForwardPass model, Expected expected, String run) {
        int matching = 0;
        StringBuilder detail = new StringBuilder();
        for (int c = 0; c < prompts.length; c++) {
            SingleSequence seq = new SingleSequence(model, prompts[c].length + STEPS);
            float[] logits = new float[config.vocabSize()];
            seq.forward(prompts[c], prompts[c].length, logits);
            for (int s = 0; s < STEPS; s++) {
                int id = argmax(logits);
                if (id != expected.ids()[c][s]) {
                    detail.append(String.format(" case %d parts at step %d (oracle margin %.4f)", c, s,
                            NasFloat64Reference.margin(expected.logits()[c][s])));
                    break;
                }
                matching++;
                if (s + 1 < STEPS) {
                    seq.forward(new int[] {id}, 1, logits);
                }
            }
        }
        System.out.printf("ORACLE %s: free-running ids equal the oracle's at %d of %d steps%s%n", run, matching,
                prompts.length * STEPS, detail);
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
