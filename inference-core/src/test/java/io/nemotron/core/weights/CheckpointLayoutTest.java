package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.testing.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Expected tensor names and shapes against the reference files, and validation of checkpoints that do not match. */
class CheckpointLayoutTest {
    @TempDir
    Path dir;

    @Test
    void ultraLayoutMatchesTheDerivedLayerMap() throws Exception {
        JsonNode map = JsonMapper.builder().build().readTree(Files.readString(
                Reference.existing("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.layer_map.derived.json")));
        Map<String, long[]> expected = new LinkedHashMap<>();
        for (JsonNode layer : map.get("layers")) {
            for (JsonNode t : layer.get("tensors")) {
                expected.put(t.get(0).asString(), shape(t.get(1)));
            }
        }
        for (JsonNode g : map.get("global_tensors")) {
            expected.put(g.get(0).asString(), shape(g.get(1)));
        }
        CheckpointLayout layout = CheckpointLayout.of(ModelConfigLoader.load(Reference.ultraConfig()));
        assertEquals(expected.size(), layout.tensors().size());
        for (TensorSpec spec : layout.tensors()) {
            assertTrue(expected.containsKey(spec.name()), "not in the derived map: " + spec.name());
            assertArrayEquals(expected.get(spec.name()), spec.shape(), spec.name());
        }
        // per-layer order as HF writes it: the derived map lists each layer's tensors in module order
        List<String> layerNames = layout.tensors().stream().map(TensorSpec::name).filter(n -> n.startsWith("model.layers.")).toList();
        assertEquals(expected.keySet().stream().filter(n -> n.startsWith("model.layers.")).toList(), layerNames);
    }

    @Test
    void tinyLayoutIsExactlyTheReferenceFile() throws Exception {
        JsonNode header = RawSafetensors.header(Reference.tinyF32().resolve("model.safetensors"));
        List<String> names = new ArrayList<>(header.propertyNames());
        names.remove("__metadata__");
        CheckpointLayout layout = CheckpointLayout.of(ModelConfigLoader.load(Reference.tinyF32()));
        // The reference file is in HF module order, which the layout follows; block 4 (no-op + no-op) has no tensors.
        assertEquals(names, layout.tensors().stream().map(TensorSpec::name).toList());
        assertFalse(names.stream().anyMatch(n -> n.startsWith("model.layers.4.")));
        for (TensorSpec spec : layout.tensors()) {
            assertArrayEquals(shape(header.get(spec.name()).get("shape")), spec.shape(), spec.name());
        }
    }

    @Test
    void tiedHeadIsOptional() {
        CheckpointLayout layout = CheckpointLayout.of(ModelConfigLoader.load(Reference.stories()));
        TensorSpec head = layout.tensors().getLast();
        assertEquals("lm_head.weight", head.name());
        assertFalse(head.required());
    }

    /** Copies the tiny F32 checkpoint with an edit applied to its tensor list. */
    private Path copyTiny(UnaryOperator<List<PendingTensor>> edit) {
        try (var src = SafetensorsReader.open(Reference.tinyF32())) {
            List<PendingTensor> tensors = new ArrayList<>();
            for (String name : src.names()) {
                tensors.add(PendingTensor.copyOf(src.tensor(name)));
            }
            Path file = dir.resolve("model.safetensors");
            SafetensorsWriter.write(file, edit.apply(tensors));
            return file;
        }
    }

    private static PendingTensor zeros(String name, long... shape) {
        return new PendingTensor(name, DType.F32, shape, (first, dst) -> dst.fill((byte) 0));
    }

    private WeightsException invalid(Path file, ModelConfig config) {
        try (var r = SafetensorsReader.open(file)) {
            return assertThrows(WeightsException.class, () -> CheckpointLayout.validate(config, r));
        }
    }

    private static void assertNames(WeightsException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should contain '" + part + "': " + e.getMessage());
        }
    }

    private final ModelConfig tiny = ModelConfigLoader.load(Reference.tinyF32());

    @Test
    void wrongShapeNamesTensorFileAndBothShapes() {
        String k = "model.layers.3.self_attn.k_proj.weight";
        Path file = copyTiny(ts -> ts.stream().map(t -> t.name().equals(k) ? zeros(k, 64, 128) : t).toList());
        assertNames(invalid(file, tiny), "'" + k + "'", file.toString(), "[64, 128]", "expects [32, 128]");
    }

    @Test
    void missingTensorIsNamed() {
        String v = "model.layers.5.self_attn.v_proj.weight";
        Path file = copyTiny(ts -> ts.stream().filter(t -> !t.name().equals(v)).toList());
        assertNames(invalid(file, tiny), "missing tensor '" + v + "'", "[16, 128]", file.toString());
    }

    @Test
    void weightsForANoOpBlockAreAnError() {
        String extra = "model.layers.4.mlp.gate_proj.weight";
        Path file = copyTiny(ts -> {
            List<PendingTensor> out = new ArrayList<>(ts);
            out.add(zeros(extra, 256, 128));
            return out;
        });
        assertNames(invalid(file, tiny), "unexpected tensor '" + extra + "'", file.toString());
    }

    @Test
    void rotaryInvFreqIsAHarmlessExtra() {
        Path file = copyTiny(ts -> {
            List<PendingTensor> out = new ArrayList<>(ts);
            out.add(zeros("model.layers.0.self_attn.rotary_emb.inv_freq", 8));
            return out;
        });
        try (var r = SafetensorsReader.open(file)) {
            CheckpointLayout.validate(tiny, r);
        }
    }

    @Test
    void untiedHeadIsRequiredTiedHeadIsNot() {
        Path file = copyTiny(ts -> ts.stream().filter(t -> !t.name().equals("lm_head.weight")).toList());
        assertNames(invalid(file, tiny), "missing tensor 'lm_head.weight'");
        ModelConfig tied = new ModelConfig(tiny.architecture(), tiny.modelType(), tiny.hiddenSize(), tiny.numAttentionHeads(),
                tiny.headDim(), tiny.vocabSize(), tiny.maxPositionEmbeddings(), tiny.rmsNormEps(), tiny.ropeTheta(),
                tiny.ropeScaling(), true, tiny.bosTokenId(), tiny.eosTokenIds(), tiny.torchDtype(), tiny.blocks());
        try (var r = SafetensorsReader.open(file)) {
            CheckpointLayout.validate(tied, r);
        }
    }

    @Test
    void checkpointForAnotherConfigListsEveryProblem() {
        ModelConfig stories = ModelConfigLoader.load(Reference.stories());
        try (var r = SafetensorsReader.open(Reference.tinyF32())) {
            var e = assertThrows(WeightsException.class, () -> CheckpointLayout.validate(stories, r));
            assertNames(e, "does not match its config", "model.embed_tokens.weight", "and", "more");
        }
    }

    private static long[] shape(JsonNode node) {
        long[] s = new long[node.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = node.get(i).asLong();
        }
        return s;
    }
}
