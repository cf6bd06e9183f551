package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the ModelOpt quantization config, both spellings, and exclude_modules with fnmatch's rules. */
class ModelOptConfigTest {
    @TempDir
    Path dir;

    @Test
    void aFolderWithoutAQuantizationConfigIsNone() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 8}");
        assertEquals(ModelOptConfig.NONE, ModelOptConfig.load(dir));
        assertFalse(ModelOptConfig.NONE.quantizes("model.layers.0.self_attn.q_proj.weight"));
    }

    @Test
    void hfQuantConfigJson() throws IOException {
        Files.writeString(dir.resolve("hf_quant_config.json"), ModelOptFp8Writer.quantConfigJson(true, List.of("lm_head")));
        ModelOptConfig q = ModelOptConfig.load(dir);
        assertTrue(q.fp8());
        assertTrue(q.kvCacheFp8());
        assertFalse(q.quantizes("lm_head.weight"));
        assertTrue(q.quantizes("model.layers.3.mlp.down_proj.weight"));
    }

    @Test
    void configJsonQuantizationConfigFlatAndNested() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"quantization_config\": {\"quant_method\": \"modelopt\","
                + " \"quant_algo\": \"FP8\", \"kv_cache_quant_algo\": null, \"exclude_modules\": [\"lm_head\"]}}");
        ModelOptConfig flat = ModelOptConfig.load(dir);
        assertTrue(flat.fp8());
        assertFalse(flat.kvCacheFp8());
        Files.writeString(dir.resolve("config.json"), "{\"quantization_config\": {\"quant_method\": \"modelopt\","
                + " \"quantization\": {\"quant_algo\": \"FP8\", \"kv_cache_quant_algo\": \"FP8\"}}}");
        assertTrue(ModelOptConfig.load(dir).kvCacheFp8());
    }

    @Test
    void anotherQuantMethodOrAlgoIsRefusedNamingTheField() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"quantization_config\": {\"quant_method\": \"awq\"}}");
        WeightsException e = assertThrows(WeightsException.class, () -> ModelOptConfig.load(dir));
        assertTrue(e.getMessage().contains("quant_method 'awq' is not supported (modelopt)"), e.getMessage());
        Files.writeString(dir.resolve("hf_quant_config.json"),
                "{\"quantization\": {\"quant_algo\": \"FP8\", \"kv_cache_quant_algo\": \"INT8\"}}");
        e = assertThrows(WeightsException.class, () -> ModelOptConfig.load(dir));
        assertTrue(e.getMessage().contains("kv_cache_quant_algo '\"INT8\"' is not supported"), e.getMessage());
        Files.writeString(dir.resolve("hf_quant_config.json"), "{\"quantization\": {\"kv_cache_quant_algo\": null}}");
        e = assertThrows(WeightsException.class, () -> ModelOptConfig.load(dir));
        assertTrue(e.getMessage().contains("\"quant_algo\""), e.getMessage());
    }

    @Test
    void excludeModulesFollowFnmatch() {
        ModelOptConfig q = new ModelOptConfig(true, false,
                List.of("lm_head", "*.mlp.linear_mlp", "model.layers.[0-2].self_attn.?_proj", "model.layers.[!0-9]*"),
                "test");
        assertTrue(q.excluded("lm_head"));
        assertTrue(q.excluded("model.layers.7.mlp.linear_mlp"));
        assertTrue(q.excluded("model.layers.2.self_attn.q_proj"));
        assertTrue(q.excluded("model.layers.0.self_attn.v_proj"));
        assertFalse(q.excluded("model.layers.3.self_attn.q_proj"));       // 3 is outside [0-2]
        assertFalse(q.excluded("model.layers.1.self_attn.linear_attn"));  // ? is one character
        assertFalse(q.excluded("model.layers.1.mlp.gate_proj"));
        assertTrue(q.excluded("model.layers.x.mlp.up_proj"));            // [!0-9]
        assertFalse(q.excluded("lm_head_extra"));
    }
}
