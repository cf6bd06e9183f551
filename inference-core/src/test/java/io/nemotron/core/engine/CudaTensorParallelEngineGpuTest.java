package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.Reference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The engine over the tensor-parallel CUDA forward pass (2 GPUs, NCCL): as {@link CudaEngineGpuTest}, every case three times at once
 * with a budget of 8 tokens per step (chunked prefill beside decode rows), on the engine's own thread while the ranks
 * were made on others, against the float64 reference's greedy ids for nemotron-nas-tiny (BF16). Every KV block is
 * free afterwards. Needs 2 GPUs (the emulator has 8); skipped without a GPU.
 */
@Tag("gpu")
class CudaTensorParallelEngineGpuTest {

    @Test
    void mixedBatchesAtTensorParallel2ReproduceTheFloat64Reference() throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        JsonNode cases = Reference.json("nemotron-nas-tiny/nas-tiny-a-bf16/expected.json").get("cases");
        try (LoadedModel model = LoadedModel.openCuda(dir, 0, 64, 2)) {
            try (Engine engine = new Engine(model, new EngineConfig(8, 8, 64, 16, 64, 0, true, 1))) {
                List<CollectingListener> listeners = new ArrayList<>();
                List<int[]> expected = new ArrayList<>();
                for (int copy = 0; copy < 3; copy++) {
                    for (JsonNode c : cases) {
                        int[] ids = Reference.ints(c.get("greedy_output_ids"));
                        CollectingListener l = new CollectingListener();
                        engine.submit(EngineRequest.of("r" + listeners.size(), Reference.ints(c.get("prompt_ids")),
                                SamplingParams.builder().temperature(0).maxTokens(ids.length).ignoreEos(true).build()), l);
                        listeners.add(l);
                        expected.add(ids);
                    }
                }
                for (int i = 0; i < listeners.size(); i++) {
                    assertEquals(FinishReason.LENGTH, listeners.get(i).await());
                    assertArrayEquals(expected.get(i), listeners.get(i).ids(), "request " + i);
                }
                EngineTest.assertAllFree(engine);
            }
        }
    }
}
