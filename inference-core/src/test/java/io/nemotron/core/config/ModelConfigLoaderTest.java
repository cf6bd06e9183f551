package io.nemotron.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.testing.Reference;
import java.nio.file.Files;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Reference configs parse to hand-checked blocks; every malformed or unsupported input names its key. */
class ModelConfigLoaderTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static ObjectNode json(java.nio.file.Path configDir) throws Exception {
        java.nio.file.Path file = Files.isDirectory(configDir) ? configDir.resolve("config.json") : configDir;
        return (ObjectNode) JSON.readTree(Files.readString(file));
    }

    private static ModelConfigException refused(java.nio.file.Path base, Consumer<ObjectNode> edit) throws Exception {
        ObjectNode root = json(base);
        edit.accept(root);
        return assertThrows(ModelConfigException.class, () -> ModelConfigLoader.parse(root.toString(), "test-config.json"));
    }

    private static void assertNames(ModelConfigException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should name '" + part + "': " + e.getMessage());
        }
    }

    @Test
    void tinyNasConfigsParseToHandCheckedBlocks() {
        for (var dir : List.of(Reference.tinyF32(), Reference.tinyBf16())) {
            ModelConfig c = ModelConfigLoader.load(dir);
            assertEquals(List.of(
                    new BlockConfig(new AttentionKind.Full(4), new FfnKind.Mlp(256)),  // group 2, ffn_mult 1.0: 85 → 256
                    new BlockConfig(new AttentionKind.None(), new FfnKind.Mlp(256)),   // ffn_mult 2.5: 213 → 256
                    new BlockConfig(new AttentionKind.Linear(), new FfnKind.Linear()),
                    new BlockConfig(new AttentionKind.Full(2), new FfnKind.None()),    // group 4
                    new BlockConfig(new AttentionKind.None(), new FfnKind.None()),
                    new BlockConfig(new AttentionKind.Full(1), new FfnKind.Mlp(256))), // group 8, ffn_mult 0.5: 42 → 256
                    c.blocks(), dir.toString());
            assertEquals(128, c.hiddenSize());
            assertEquals(16, c.headDim());
            assertEquals(256, c.vocabSize());
            assertFalse(c.tieWordEmbeddings());
            assertEquals(List.of(2), c.eosTokenIds());
            assertEquals(new RopeScaling(16, 1, 4, 256), c.ropeScaling());
        }
    }

    @Test
    void storiesLlamaConfig() {
        ModelConfig c = ModelConfigLoader.load(Reference.stories());
        assertEquals(5, c.numLayers());
        assertEquals(8, c.headDim());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(List.of(2), c.eosTokenIds(), "an int eos_token_id becomes a one-element list");
        assertNull(c.ropeScaling());
        for (BlockConfig b : c.blocks()) {
            assertEquals(new BlockConfig(new AttentionKind.Full(4), new FfnKind.Mlp(172)), b);
        }
    }

    @Test
    void ultraConfig() {
        ModelConfig c = ModelConfigLoader.load(Reference.ultraConfig());
        assertEquals(162, c.numLayers());
        assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds(), "a list eos_token_id keeps every id");
        assertEquals(new RopeScaling(16, 1, 4, 8192), c.ropeScaling());
        assertEquals(new BlockConfig(new AttentionKind.Full(8), new FfnKind.Mlp(5376)), c.blocks().get(0));
    }

    @Test
    void eosIntVersusList() throws Exception {
        ObjectNode root = json(Reference.stories());
        root.putArray("eos_token_id").add(2).add(7);
        assertEquals(List.of(2, 7), ModelConfigLoader.parse(root.toString(), "x").eosTokenIds());
        root.put("eos_token_id", 5);
        assertEquals(List.of(5), ModelConfigLoader.parse(root.toString(), "x").eosTokenIds());
        assertNames(refused(Reference.stories(), r -> r.put("eos_token_id", "two")), "eos_token_id");
    }

    @Test
    void tiedVersusUntied() throws Exception {
        ObjectNode root = json(Reference.stories());
        root.put("tie_word_embeddings", false);
        assertFalse(ModelConfigLoader.parse(root.toString(), "x").tieWordEmbeddings());
        root.remove("tie_word_embeddings");
        assertFalse(ModelConfigLoader.parse(root.toString(), "x").tieWordEmbeddings(), "HF's default is untied");
        root.put("tie_word_embeddings", true);
        assertTrue(ModelConfigLoader.parse(root.toString(), "x").tieWordEmbeddings());
    }

    @ParameterizedTest
    @ValueSource(strings = {"hidden_size", "num_attention_heads", "num_hidden_layers", "vocab_size",
            "max_position_embeddings", "rms_norm_eps", "block_configs", "architectures"})
    void missingNasKeyIsNamed(String key) throws Exception {
        assertNames(refused(Reference.tinyF32(), r -> r.remove(key)), "test-config.json", key);
    }

    @Test
    void missingLlamaIntermediateSize() throws Exception {
        assertNames(refused(Reference.stories(), r -> r.remove("intermediate_size")), "intermediate_size");
    }

    @Test
    void missingHeadsInGroup() throws Exception {
        var e = refused(Reference.tinyF32(),
                r -> ((ObjectNode) r.get("block_configs").get(3).get("attention")).remove("n_heads_in_group"));
        assertNames(e, "block_configs[3].attention.n_heads_in_group");
    }

    @Test
    void missingFfnMult() throws Exception {
        var e = refused(Reference.tinyF32(), r -> ((ObjectNode) r.get("block_configs").get(0).get("ffn")).remove("ffn_mult"));
        assertNames(e, "block_configs[0].ffn.ffn_mult");
    }

    @Test
    void blockCountMismatch() throws Exception {
        assertNames(refused(Reference.tinyF32(), r -> r.put("num_hidden_layers", 7)), "block_configs", "7");
    }

    @ParameterizedTest
    @ValueSource(strings = {"num_sink_tokens", "window_length", "sparsify"})
    void unsupportedAttentionFeaturesAreRefused(String key) throws Exception {
        var e = refused(Reference.tinyF32(),
                r -> ((ObjectNode) r.get("block_configs").get(0).get("attention")).put(key, 4));
        assertNames(e, "block_configs[0].attention." + key);
    }

    @Test
    void sparseFfnIsRefused() throws Exception {
        var e = refused(Reference.tinyF32(),
                r -> ((ObjectNode) r.get("block_configs").get(1).get("ffn")).putObject("sparsify").put("x", 1));
        assertNames(e, "block_configs[1].ffn.sparsify");
    }

    @Test
    void nullUnsupportedFeaturesAreFine() throws Exception {
        // Ultra spells every unused feature out as null / false; that must not be mistaken for a request.
        ObjectNode root = json(Reference.tinyF32());
        ((ObjectNode) root.get("block_configs").get(0).get("attention")).putNull("num_sink_tokens").putNull("window_length")
                .putNull("sparsify").put("unshifted_sink", false);
        assertEquals(6, ModelConfigLoader.parse(root.toString(), "x").numLayers());
    }

    @Test
    void ropeTypeOtherThanLlama3IsRefused() throws Exception {
        var e = refused(Reference.tinyF32(), r -> ((ObjectNode) r.get("rope_scaling")).put("rope_type", "yarn"));
        assertNames(e, "rope_scaling.rope_type", "yarn");
        var linear = refused(Reference.stories(), r -> r.putObject("rope_scaling").put("type", "linear").put("factor", 2.0));
        assertNames(linear, "rope_scaling.rope_type", "linear");
    }

    @Test
    void missingRopeScalingFieldIsNamed() throws Exception {
        var e = refused(Reference.tinyF32(), r -> ((ObjectNode) r.get("rope_scaling")).remove("low_freq_factor"));
        assertNames(e, "rope_scaling.low_freq_factor");
    }

    @Test
    void nonSiluActivationIsRefused() throws Exception {
        assertNames(refused(Reference.stories(), r -> r.put("hidden_act", "gelu")), "hidden_act", "gelu");
    }

    @Test
    void biasesAreRefused() throws Exception {
        assertNames(refused(Reference.stories(), r -> r.put("attention_bias", true)), "attention_bias");
        assertNames(refused(Reference.stories(), r -> r.put("mlp_bias", true)), "mlp_bias");
    }

    @Test
    void unknownArchitectureIsRefused() throws Exception {
        assertNames(refused(Reference.stories(), r -> r.putArray("architectures").add("MistralForCausalLM")),
                "architectures", "MistralForCausalLM");
    }

    @Test
    void badValuesAreNamed() throws Exception {
        assertNames(refused(Reference.stories(), r -> r.put("hidden_size", -64)), "hidden_size", "-64");
        assertNames(refused(Reference.stories(), r -> r.put("num_key_value_heads", 3)), "num_key_value_heads");
        assertNames(refused(Reference.tinyF32(),
                r -> ((ObjectNode) r.get("block_configs").get(0).get("attention")).put("n_heads_in_group", 3)), "n_heads_in_group");
    }

    @Test
    void notJsonAndMissingFile() {
        assertNames(assertThrows(ModelConfigException.class, () -> ModelConfigLoader.parse("{oops", "bad.json")), "bad.json");
        assertNames(assertThrows(ModelConfigException.class,
                () -> ModelConfigLoader.load(java.nio.file.Path.of("/nonexistent/dir"))), "config.json");
    }
}
