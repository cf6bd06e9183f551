package io.nemotron.core.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.cuda.CudaGraphs;
import org.junit.jupiter.api.Test;

/** What CudaRanks refuses before it opens a device (so no GPU is needed). */
class CudaRanksTest {
    @Test
    void anFp32KvCacheIsRefusedNamingTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaRanks.open(0, 2, 8, CudaGraphs.OFF, KvCacheFormat.of(KvCacheDtype.FP32, 6)));
        assertEquals("--kv-cache-dtype fp32 is not available on the CUDA backend (its attention kernels read bf16 or"
                + " fp8 caches): use bf16, fp8 or auto", e.getMessage());
    }
}
