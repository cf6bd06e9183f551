package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

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
        assertEquals((4 + 2 + 1) * 16 * 2 * 2 * 16L, CudaKvPool.bytesPerBlock(config, 16, KvCacheDtype.BF16));
    }

    @ParameterizedTest
    @EnumSource(value = KvCacheDtype.class, names = {"BF16", "FP8"})
    void kvBytesPerBlockFollowsTheCacheDtype(KvCacheDtype dtype) {
        // the same 7 kv heads of 16 in K and V, one byte an element for FP8 (half of BF16)
        ModelConfig config = ModelConfigLoader.load(Reference.tinyBf16());
        assertEquals((4 + 2 + 1) * 16 * 2 * dtype.bytes() * 16L, CudaKvPool.bytesPerBlock(config, 16, dtype));
    }

    @Test
    void anFp32CacheIsRefusedNamingTheFlagBeforeAnyDeviceWork() {
        Path path = Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(path);
        try (SafetensorsReader reader = SafetensorsReader.open(path)) {
            ModelWeights w = ModelWeights.from(config, reader);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CudaBackend(config, w,
                    null, 8, null, 0, CudaGraphs.OFF, KvCacheFormat.of(KvCacheDtype.FP32, config.numLayers())));
            assertEquals("--kv-cache-dtype fp32 is not available on the CUDA backend (its attention kernels read bf16"
                    + " or fp8 caches): use bf16, fp8 or auto", e.getMessage());
            IllegalArgumentException layers = assertThrows(IllegalArgumentException.class, () -> new CudaBackend(config,
                    w, null, 8, null, 0, CudaGraphs.OFF, KvCacheFormat.of(KvCacheDtype.FP8, 2)));
            assertEquals("the KV cache format has scales for 2 layers, the model has " + config.numLayers(),
                    layers.getMessage());
        }
    }
}
