package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.model.LoadedModel;
import io.nemotron.core.testing.Reference;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The continuous-batching engine over a tensor-parallel model: the scheduler and block tables are rank-agnostic,
 * each rank's KV pool holds its own heads. Every stories260K case, submitted at once (mixed chunked prefills and
 * decodes in shared steps), reproduces the reference ids on 4 ranks, and the block pool is all free afterwards.
 */
class TensorParallelEngineTest {

    @Test
    void batchedRequestsOnFourRanksReproduceTheStories260kReference() throws Exception {
        JsonNode cases = Reference.json("stories260k/expected.json").get("cases");
        try (LoadedModel model = LoadedModel.openCpu(Reference.stories(), 2, 64, 4);
             Engine engine = new Engine(model, new EngineConfig(64, 8, 64, 16, 0, 16L << 20, true, 2))) {
            List<CollectingListener> listeners = new ArrayList<>();
            List<int[]> expected = new ArrayList<>();
            for (JsonNode c : cases) {
                int[] ids = Reference.ints(c.get("generated_ids"));
                CollectingListener l = new CollectingListener();
                engine.submit(EngineRequest.of(c.get("name").asString(), Reference.ints(c.get("prompt_ids")),
                        SamplingParams.builder().temperature(0).maxTokens(ids.length).ignoreEos(true).build()), l);
                listeners.add(l);
                expected.add(ids);
            }
            for (int i = 0; i < listeners.size(); i++) {
                assertEquals(FinishReason.LENGTH, listeners.get(i).await());
                assertArrayEquals(expected.get(i), listeners.get(i).ids(), cases.get(i).get("name").asString());
            }
            EngineTest.assertAllFree(engine);
        }
    }
}
