package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MemoryBandwidthTest {

    @Test
    void measuresAPositiveFiniteRate() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            double gbps = MemoryBandwidth.measureReadGBps(pool, 16L << 20, 3);
            assertTrue(gbps > 0.1 && gbps < 10_000, "implausible bandwidth " + gbps + " GB/s");
            assertThrows(IllegalArgumentException.class, () -> MemoryBandwidth.measureReadGBps(pool, 8, 1));
        }
    }
}
