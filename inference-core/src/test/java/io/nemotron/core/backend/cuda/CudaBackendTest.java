package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** What the CUDA backend decides before it touches a GPU. */
class CudaBackendTest {

    @Test
    void aVocabStartOutsideTheVocabularyOrOnASingleRankIsRefusedBeforeAnyDeviceWork() {
        Path path = Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(path);
        try (SafetensorsReader reader = SafetensorsReader.open(path)) {
            ModelWeights w = ModelWeights.from(config, reader);
            // refused before any device work, so no GPU is needed (device null)
            IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                    () -> new CudaBackend(config, w, null, 8, null, 256));
            assertEquals("vocabStart 256 outside the vocabulary [0, 256)", outside.getMessage());
            IllegalArgumentException single = assertThrows(IllegalArgumentException.class,
                    () -> new CudaBackend(config, w, null, 8, null, 128));
            assertEquals("a single rank holds the whole vocabulary: vocabStart must be 0, got 128", single.getMessage());
        }
    }

    @Test
    void kvBytesPerBlockCountsBf16KAndVOfTheFullLayersOnly() {
        // nemotron-nas-tiny: FULL layers 0 (4 kv heads), 3 (2), 5 (1); head_dim 16; K and V; 2 bytes
        ModelConfig config = ModelConfigLoader.load(Reference.tinyBf16());
        assertEquals((4 + 2 + 1) * 16 * 2 * 2 * 16L, CudaKvPool.bytesPerBlock(config, 16));
    }
}
