package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.backend.cuda.CudaBackend;
import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.Transformer;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The engine over the CUDA forward pass: six requests at once with a budget of 8 tokens per step, so prompts are
 * prefilled in chunks next to other requests' decode rows (mixed steps), against the float64 reference's greedy ids
 * for nemotron-nas-tiny (BF16). Needs a GPU; skipped elsewhere.
 */
@Tag("gpu")
class CudaEngineGpuTest {

    @Test
    void mixedBatchesOnTheGpuReproduceTheFloat64Reference() throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        JsonNode cases = Reference.json("nemotron-nas-tiny/nas-tiny-a-bf16/expected.json").get("cases");
        ModelConfig config = ModelConfigLoader.load(dir);
        try (CudaDevice device = CudaDevice.open(0); SafetensorsReader reader = SafetensorsReader.open(dir)) {
            ModelWeights w = ModelWeights.from(config, reader);
            try (CudaBackend backend = new CudaBackend(config, w, device, 64);
                 Engine engine = new Engine(new Transformer(config, w, backend), null,
                         new EngineConfig(8, 8, 64, 16, 64, 0, true, 1))) {
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
