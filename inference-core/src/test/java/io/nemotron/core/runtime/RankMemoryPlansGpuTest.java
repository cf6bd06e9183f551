package io.nemotron.core.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.backend.cuda.DeviceBuffer;
import io.nemotron.core.backend.cuda.MemoryPlanner;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.Reference;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The per-rank memory plan (start-up log, inspect): each rank is planned against its own device's reported memory,
 * and its free memory is its own device's even when one thread holds both devices (cuMemGetInfo answers for the
 * current context). Needs 2 GPUs (the emulator has 8); skipped without a GPU.
 */
@Tag("gpu")
class RankMemoryPlansGpuTest {

    @Test
    void eachRankIsPlannedOnItsOwnDevicesReportedMemory() {
        CudaAvailability.assumeDevice();
        ModelConfig config = ModelConfigLoader.load(Reference.tinyBf16());
        try (CudaDevice d0 = CudaDevice.open(0); CudaDevice d1 = CudaDevice.open(1)) {
            long free0 = d0.freeMemory();
            long free1 = d1.freeMemory();
            // 64 MiB on device 1 only, while device 1's context is the current one on this thread
            try (DeviceBuffer held = d1.allocate(64L << 20, "a test allocation on device 1")) {
                MemoryPlanner planner = MemoryPlanner.forModel(config).maxRows(64).maxSeqs(16);
                List<RankMemoryPlans.RankPlan> plans = RankMemoryPlans.plan(planner, List.of(d0, d1));
                assertEquals(2, plans.size());
                for (int r = 0; r < 2; r++) {
                    RankMemoryPlans.RankPlan p = plans.get(r);
                    CudaDevice d = r == 0 ? d0 : d1;
                    assertEquals(r, p.rank());
                    assertEquals(2, p.ranks());
                    assertEquals(d.ordinal(), p.ordinal());
                    assertEquals(d.totalMemory(), p.totalBytes());
                    assertNull(p.refusal());
                    assertEquals(MemoryPlanner.forModel(config).tensorParallel(2).maxRows(64).maxSeqs(16)
                            .deviceMemory(d.totalMemory()).plan(), p.plan(), "rank " + r + ": the planner's plan");
                    assertTrue(p.line().startsWith("memory plan, rank " + r + " of 2 on GPU " + d.ordinal()), p.line());
                }
                assertEquals(free0, plans.get(0).freeBytes(), "device 0's free memory, untouched");
                assertEquals(free1 - (64L << 20), plans.get(1).freeBytes(), "device 1's free memory, less the buffer");
            }
        }
    }
}
