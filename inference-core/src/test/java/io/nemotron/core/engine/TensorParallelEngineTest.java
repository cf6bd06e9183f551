package io.nemotron.core.engine;

import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.Reference;
import org.junit.jupiter.api.Test;

/**
 * The continuous-batching engine over a tensor-parallel model: the scheduler and block tables are rank-agnostic,
 * each rank's KV pool holds its own heads. Every stories260K case, submitted at once (mixed chunked prefills and
 * decodes in shared steps), reproduces the reference ids on 4 ranks, and the block pool is all free afterwards.
 */
class TensorParallelEngineTest {

    @Test
    void batchedRequestsOnFourRanksReproduceTheStories260kReference() throws Exception {
        try (LoadedModel model = LoadedModel.openCpu(Reference.stories(), 2, 64, 4);
             Engine engine = new Engine(model, new EngineConfig(64, 8, 64, 16, 0, 16L << 20, true, 2))) {
            EngineTest.assertStoriesCasesInOneBatch(engine);
        }
    }
}
