package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.testing.Reference;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The reference checkpoints load, their tensors are exactly the file's bytes, and they match their configs. */
class SafetensorsReaderTest {

    @Test
    void referenceCheckpointsLoadAndValidate() throws Exception {
        for (Path dir : List.of(Reference.tinyF32(), Reference.tinyBf16(), Reference.stories())) {
            Path file = dir.resolve("model.safetensors");
            JsonNode header = RawSafetensors.header(file);
            Set<String> expectedNames = new HashSet<>(header.propertyNames());
            expectedNames.remove("__metadata__");
            try (SafetensorsReader reader = SafetensorsReader.open(dir)) {
                assertEquals(expectedNames, reader.names(), dir.toString());
                CheckpointLayout.validate(ModelConfigLoader.load(dir), reader);
                for (String name : expectedNames) {
                    Tensor t = reader.tensor(name);
                    JsonNode entry = header.get(name);
                    assertEquals(entry.get("dtype").asString(), t.dtype().safetensorsName(), name);
                    long[] shape = new long[entry.get("shape").size()];
                    for (int i = 0; i < shape.length; i++) {
                        shape[i] = entry.get("shape").get(i).asLong();
                    }
                    assertArrayEquals(shape, t.shape(), name);
                    assertArrayEquals(RawSafetensors.tensorBytes(file, name), t.data().toArray(ValueLayout.JAVA_BYTE), name);
                    assertEquals(file.toString(), reader.locationOf(name));
                }
            }
        }
    }

    @Test
    void bf16CheckpointIsTheF32OneRounded() {
        // README: "the same weights rounded to BF16" -- so each BF16 value is within half a BF16 ulp (2^-8 relative).
        try (var f32 = SafetensorsReader.open(Reference.tinyF32()); var bf16 = SafetensorsReader.open(Reference.tinyBf16())) {
            for (String name : f32.names()) {
                Tensor a = f32.tensor(name);
                Tensor b = bf16.tensor(name);
                for (long i = 0; i < a.numel(); i++) {
                    float x = a.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                    int bits = b.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) & 0xFFFF;
                    float y = Float.intBitsToFloat(bits << 16);
                    assertTrue(Math.abs(x - y) <= Math.abs(x) / 256 + 1e-30, name + "[" + i + "]: " + x + " vs " + y);
                }
            }
        }
    }

    @Test
    void storiesTiedHeadIsACopyOfTheEmbedding() {
        try (var r = SafetensorsReader.open(Reference.stories())) {
            assertArrayEquals(r.tensor("model.embed_tokens.weight").data().toArray(ValueLayout.JAVA_BYTE),
                    r.tensor("lm_head.weight").data().toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void openAcceptsTheFileItself() {
        try (var r = SafetensorsReader.open(Reference.stories().resolve("model.safetensors"))) {
            assertTrue(r.contains("model.norm.weight"));
        }
    }

    @Test
    void missingTensorIsNamed() {
        try (var r = SafetensorsReader.open(Reference.stories())) {
            var e = assertThrows(WeightsException.class, () -> r.tensor("model.layers.9.mlp.up_proj.weight"));
            assertTrue(e.getMessage().contains("model.layers.9.mlp.up_proj.weight"), e.getMessage());
        }
    }

    @Test
    void closeUnmapsAndIsIdempotent() {
        var r = SafetensorsReader.open(Reference.stories());
        Tensor t = r.tensor("model.norm.weight");
        r.close();
        r.close();
        assertThrows(IllegalStateException.class, () -> t.data().get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void folderWithoutCheckpoint(@org.junit.jupiter.api.io.TempDir Path dir) {
        var e = assertThrows(WeightsException.class, () -> SafetensorsReader.open(dir));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("model.safetensors"), e.getMessage());
    }
}
