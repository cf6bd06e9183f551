package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.KvScales;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The memory planner's numbers meet the allocator: on the device's reported memory (the emulator's configured total
 * under the Maven run, NEMOTRON_CUDA_EMULATOR_MEMORY), the weights the planner counts are the bytes CudaBackend uploads,
 * its activation buffers fit the planned workspace, the KV pool of the planned block count takes exactly the planned
 * KV bytes, everything together stays within the budget, and what is left cannot hold one more allocation of it.
 */
@Tag("gpu")
class MemoryPlanOnDeviceGpuTest {
    private static final int MAX_ROWS = 64;

    @TempDir
    static Path tmp;

    /**
     * BF16 weights and KV cache; and the ModelOpt FP8 checkpoint (projections 1 byte, with the dequantizing path's
     * scratch in the workspace) on an FP8 KV cache (1 byte an element).
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void thePlannedPoolFitsTheDeviceExactlyAsPlanned(boolean fp8) throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = fp8 ? TinyFp8Checkpoint.write(tmp.resolve("fp8"), true) : Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(dir);
        KvCacheDtype kvDtype = fp8 ? KvCacheDtype.FP8 : KvCacheDtype.BF16;
        try (CudaDevice device = CudaDevice.open(0); SafetensorsReader reader = SafetensorsReader.open(dir)) {
            long before = device.freeMemory();
            MemoryPlan plan = MemoryPlanner.forModel(config).deviceMemory(device.totalMemory()).maxRows(MAX_ROWS)
                    .maxSeqs(MAX_ROWS).maxModelLen(config.maxPositionEmbeddings()).weightBytes(fp8 ? 1 : 2)
                    .kvBytes(kvDtype.bytes()).plan();
            assertEquals(fp8, plan.workspace().fp8Bytes() > 0, "FP8 scratch planned");
            ModelWeights w = ModelWeights.from(config, reader);
            KvCacheFormat format = KvScales.read(config, reader).format(kvDtype);
            try (CudaBackend backend = new CudaBackend(config, w, device, MAX_ROWS, null, 0, CudaGraphs.on(), format)) {
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
