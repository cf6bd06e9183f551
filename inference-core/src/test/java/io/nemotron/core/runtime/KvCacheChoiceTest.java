package io.nemotron.core.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.KvScales;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --kv-cache-dtype}: parsing, and what auto resolves to for a checkpoint and a backend. */
class KvCacheChoiceTest {
    @TempDir
    Path dir;

    @Test
    void parsesTheFourSpellingsAndNamesTheFieldOtherwise() {
        assertEquals(KvCacheChoice.AUTO, KvCacheChoice.parse("AUTO", "--kv-cache-dtype"));
        assertEquals(KvCacheChoice.of(KvCacheDtype.FP32), KvCacheChoice.parse("fp32", "--kv-cache-dtype"));
        assertEquals(KvCacheChoice.of(KvCacheDtype.BF16), KvCacheChoice.parse(" bf16 ", "--kv-cache-dtype"));
        assertEquals(KvCacheChoice.of(KvCacheDtype.FP8), KvCacheChoice.parse("fp8", "--kv-cache-dtype"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KvCacheChoice.parse("int8", "nemotron.model.kv-cache-dtype"));
        assertEquals("nemotron.model.kv-cache-dtype 'int8' is not one of auto, fp32, bf16, fp8", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KvCacheChoice.parse("", "--kv-cache-dtype"));
    }

    @Test
    void autoIsFp8WhenTheCheckpointSaysSoElseBf16OnBothBackends() {
        assertEquals(KvCacheDtype.FP8, KvCacheChoice.AUTO.resolve(true, false));
        assertEquals(KvCacheDtype.FP8, KvCacheChoice.AUTO.resolve(true, true));
        assertEquals(KvCacheDtype.BF16, KvCacheChoice.AUTO.resolve(false, true));
        assertEquals(KvCacheDtype.BF16, KvCacheChoice.AUTO.resolve(false, false));
        // a fixed dtype is what was asked for, whatever the checkpoint says
        assertEquals(KvCacheDtype.FP32, KvCacheChoice.of(KvCacheDtype.FP32).resolve(true, false));
    }

    /**
     * An FP8 checkpoint calibrated for an FP8 cache (kv_cache_quant_algo FP8, k/v scales) opens on the CPU with an FP8
     * cache holding its per-layer scales; without that config auto is BF16. Bytes per token from the config by hand:
     * FULL layers × kv heads × head dim × 2 × bytes.
     */
    @Test
    void theCpuBackendTakesTheCheckpointsFp8CacheAndItsScales() {
        Path calibrated = TinyFp8Checkpoint.write(dir.resolve("kv"), true);
        try (LoadedModel m = LoadedModel.openCpu(calibrated, 1, 16, 1, KvCacheChoice.AUTO);
             SafetensorsReader w = SafetensorsReader.open(calibrated)) {
            KvScales scales = KvScales.read(m.config(), w);
            assertEquals(KvCacheDtype.FP8, m.kvFormat().dtype());
            assertArrayEquals(scales.k(), m.kvFormat().kScales());
            assertArrayEquals(scales.v(), m.kvFormat().vScales());
            assertEquals(elementsPerToken(m.config()), m.kvBytesPerToken());
        }
        Path plain = TinyFp8Checkpoint.write(dir.resolve("plain"), false);
        try (LoadedModel m = LoadedModel.openCpu(plain, 1, 16, 1, KvCacheChoice.AUTO)) {
            assertEquals(KvCacheDtype.BF16, m.kvFormat().dtype());
            assertEquals(2 * elementsPerToken(m.config()), m.kvBytesPerToken());
        }
    }

    @Test
    void theCudaBackendRefusesAnFp32CacheNamingTheFlagBeforeAnyDeviceIsOpened() {
        // no GPU is needed: the refusal comes first (on a machine without one the message would name the GPU instead)
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoadedModel.openCuda(
                io.nemotron.core.testing.Reference.tinyBf16(), 0, 16, 1, io.nemotron.core.backend.cuda.CudaGraphs.on(),
                KvCacheChoice.of(KvCacheDtype.FP32)));
        assertEquals(true, e.getMessage().startsWith("--kv-cache-dtype fp32 is not available on the CUDA backend"),
                e.getMessage());
    }

    private static long elementsPerToken(ModelConfig config) {
        long n = 0;
        for (BlockConfig b : config.blocks()) {
            if (b.attention() instanceof AttentionKind.Full full) {
                n += 2L * full.kvHeads() * config.headDim();
            }
        }
        return n;
    }
}
