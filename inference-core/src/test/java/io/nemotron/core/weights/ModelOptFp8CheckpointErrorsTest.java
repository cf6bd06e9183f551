package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, must-show 2: each defect of an FP8 checkpoint is refused at load as one error naming the tensor (or the
 * config field), before any compute.
 */
class ModelOptFp8CheckpointErrorsTest {
    private static final String Q = "model.layers.0.self_attn.q_proj";

    @TempDir
    static Path work;
    static Path good;

    @BeforeAll
    static void writeGoodCheckpoint() {
        good = TinyFp8Checkpoint.write(work.resolve("good"), false);
    }

    @Test
    void theGoodCheckpointLoads() {
        try (LoadedModel m = LoadedModel.openCpu(good, 1, 8)) {
            assertEquals(256, m.config().vocabSize());
        }
    }

    @Test
    void aMissingWeightScaleIsOneErrorNamingIt() {
        Path dir = variant("missing", tensors -> {
            tensors.removeIf(t -> t.name().equals(Q + ".weight_scale"));
            return tensors;
        });
        assertOneProblemNaming(dir, "missing tensor '" + Q + ".weight_scale'");
    }

    @Test
    void aZeroScaleIsOneErrorNamingIt() {
        Path dir = variant("zero", replaceScalar(Q + ".input_scale", new long[0], 0f));
        assertOneProblemNaming(dir, "FP8 scale '" + Q + ".input_scale'", "is 0.0, must be finite and positive");
    }

    @Test
    void aNanScaleIsOneErrorNamingIt() {
        String name = "model.layers.5.mlp.down_proj.weight_scale";
        Path dir = variant("nan", replaceScalar(name, new long[] {1}, Float.NaN));
        assertOneProblemNaming(dir, "FP8 scale '" + name + "'", "is NaN, must be finite and positive");
    }

    @Test
    void anInputScaleOfTheWrongShapeIsOneErrorNamingIt() {
        String name = "model.layers.2.mlp.linear_mlp.input_scale";
        Path dir = variant("shape", replaceScalar(name, new long[] {2}, 0.5f));
        assertOneProblemNaming(dir, "FP8 scale '" + name + "'", "has shape [2], expected [] or [1]");
    }

    @Test
    void anUnknownQuantAlgoIsRefusedNamingTheField() throws IOException {
        Path dir = variant("algo", t -> t);
        Files.writeString(dir.resolve(ModelOptConfig.HF_QUANT_CONFIG),
                "{\"quantization\": {\"quant_algo\": \"NVFP4\", \"exclude_modules\": [\"lm_head\"]}}");
        WeightsException e = assertThrows(WeightsException.class, () -> LoadedModel.openCpu(dir, 1, 8).close());
        assertTrue(e.getMessage().contains("quant_algo 'NVFP4' is not supported (FP8)"), e.getMessage());
        assertTrue(e.getMessage().contains(ModelOptConfig.HF_QUANT_CONFIG), e.getMessage());
    }

    @Test
    void fp8BytesWithoutAQuantizationConfigAreRefusedNamingTheTensor() throws IOException {
        Path dir = variant("noconfig", t -> t);
        Files.delete(dir.resolve(ModelOptConfig.HF_QUANT_CONFIG));
        WeightsException e = assertThrows(WeightsException.class, () -> LoadedModel.openCpu(dir, 1, 8).close());
        assertTrue(e.getMessage().contains("tensor '" + Q + ".weight' in "), e.getMessage());
        assertTrue(e.getMessage().contains("is F8_E4M3 but the checkpoint has no FP8 quantization config"), e.getMessage());
    }

    @Test
    void aBf16LinearTheConfigMakesFp8IsRefusedNamingIt() throws IOException {
        // exclude nothing: lm_head (BF16 in the files) must then be FP8
        Path dir = variant("head", t -> t);
        Files.writeString(dir.resolve(ModelOptConfig.HF_QUANT_CONFIG), ModelOptFp8Writer.quantConfigJson(false, List.of()));
        WeightsException e = assertThrows(WeightsException.class, () -> LoadedModel.openCpu(dir, 1, 8).close());
        assertTrue(e.getMessage().contains("tensor 'lm_head.weight' in "), e.getMessage());
        assertTrue(e.getMessage().contains("is BF16 but"), e.getMessage());
        // ...and its missing scales are named too
        assertTrue(e.getMessage().contains("missing tensor 'lm_head.weight_scale'"), e.getMessage());
    }

    private static void assertOneProblemNaming(Path dir, String... parts) {
        WeightsException e = assertThrows(WeightsException.class, () -> LoadedModel.openCpu(dir, 1, 8).close());
        assertTrue(e.getMessage().contains("(1 problem)"), e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }

    private static UnaryOperator<List<Tensor>> replaceScalar(String name, long[] shape, float value) {
        return tensors -> {
            MemorySegment data = Arena.global().allocate(Math.max(1, shape.length == 0 ? 1 : shape[0]) * 4L);
            for (long i = 0; i < data.byteSize() / 4; i++) {
                data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, value);
            }
            tensors.replaceAll(t -> t.name().equals(name) ? new Tensor(name, DType.F32, shape, data) : t);
            return tensors;
        };
    }

    /** A copy of the good checkpoint with its tensors edited by {@code edit}. */
    private static Path variant(String name, UnaryOperator<List<Tensor>> edit) {
        Path dir = work.resolve(name);
        try {
            Files.createDirectories(dir);
            for (String f : List.of("config.json", ModelOptConfig.HF_QUANT_CONFIG)) {
                Files.copy(good.resolve(f), dir.resolve(f));
            }
            try (SafetensorsReader r = SafetensorsReader.open(good)) {
                List<Tensor> tensors = new ArrayList<>();
                for (String n : r.names()) {
                    tensors.add(r.tensor(n));
                }
                SafetensorsWriter.writeTensors(dir.resolve(SafetensorsReader.SINGLE_FILE), edit.apply(tensors));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return dir;
    }
}
