package io.nemotron.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nemotron.core.testing.Reference;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Written configs read back to the config they came from. */
class ModelConfigWriterTest {

    @Test
    void referenceConfigsRoundTrip() {
        for (var path : List.of(Reference.tinyF32(), Reference.stories(), Reference.ultraConfig())) {
            ModelConfig c = ModelConfigLoader.load(path);
            assertEquals(c, ModelConfigLoader.parse(ModelConfigWriter.toJson(c), "written"), path.toString());
        }
    }

    @Test
    void ffnMultMustReproduceTheWidth() {
        assertEquals(5376, ModelConfig.ffnMultToIntermediateSize(ModelConfigWriter.ffnMultFor(5376, 16384), 16384));
        assertThrows(ModelConfigException.class, () -> ModelConfigWriter.ffnMultFor(172, 64));
    }
}
