package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The memory planner's numbers meet the allocator: on the device's reported memory (the emulator's configured total
 * under the Maven run, NEMOTRON_CUDA_EMULATOR_MEMORY), the weights the planner counts are the bytes CudaBackend uploads,
 * its activation buffers fit the planned workspace, the KV pool of the planned block count takes exactly the planned
 * KV bytes, everything together stays within the budget, and what is left cannot hold one more allocation of it.
 */
@Tag("gpu")
class MemoryPlanOnDeviceGpuTest {
    private static final int MAX_ROWS = 64;

    @Test
    void thePlannedPoolFitsTheDeviceExactlyAsPlanned() throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(dir);
        try (CudaDevice device = CudaDevice.open(0); SafetensorsReader reader = SafetensorsReader.open(dir)) {
            long before = device.freeMemory();
            MemoryPlan plan = MemoryPlanner.forModel(config).deviceMemory(device.totalMemory()).maxRows(MAX_ROWS)
                    .maxSeqs(MAX_ROWS).maxModelLen(config.maxPositionEmbeddings()).plan();
            ModelWeights w = ModelWeights.from(config, reader);
            try (CudaBackend backend = new CudaBackend(config, w, device, MAX_ROWS)) {
                assertEquals(plan.weightBytes(), backend.weightBytes(), "weights: planned vs uploaded");
                long afterBackend = device.freeMemory();
                long activations = before - afterBackend - backend.weightBytes();
                assertTrue(activations <= plan.workspace().total(), () -> "the backend's buffers take " + activations
                        + " bytes, the planned workspace is " + plan.workspace().total());
                KvPool pool = backend.newKvPool(plan.kvBlocks(), plan.blockSize());
                long kv = afterBackend - device.freeMemory();
                assertEquals(plan.kvBytes(), kv, "KV pool: planned vs allocated (" + plan.kvBlocks() + " blocks)");
                long used = before - device.freeMemory();
                assertTrue(used <= plan.budgetBytes(), () -> used + " bytes used, budget " + plan.budgetBytes());
                // the device really is that full: what is left cannot take one more pool's worth
                long left = device.freeMemory();
                CudaException e = assertThrows(CudaException.class, () -> device.allocate(left + 1, "one byte too many"));
                assertTrue(e.getMessage().contains("cuMemAlloc(" + (left + 1) + " bytes for one byte too many)")
                        && e.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY"), e.getMessage());
                assertEquals(left, device.freeMemory(), "a refused allocation takes nothing");
            }
            assertEquals(before, device.freeMemory(), "closing the backend frees every byte it allocated");
        }
    }
}
