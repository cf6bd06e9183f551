package io.nemotron.service.engine;

import io.nemotron.core.backend.cuda.MemoryPlanner;
import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.runtime.RankMemoryPlans;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up log's memory plan of a CUDA model: one line per rank, from the planner run against each rank's device
 * ({@link RankMemoryPlans}), with the engine's step sizes. {@code nemotron inspect --backend cuda} with the same
 * settings prints the same lines (up to the free memory, which here is read after the weights were uploaded).
 */
public final class StartupMemoryPlan {
    private static final Logger log = LoggerFactory.getLogger(StartupMemoryPlan.class);

    private StartupMemoryPlan() {}

    /** The planner with the engine's settings (BF16 weights; the KV cache in the dtype the model was opened with). */
    public static MemoryPlanner planner(LoadedModel model, EngineConfig engine) {
        return MemoryPlanner.forModel(model.config()).maxRows(engine.maxNumBatchedTokens())
                .maxSeqs(engine.maxNumSeqs()).blockSize(engine.blockSize())
                .kvBytes(model.kvFormat().dtype().bytes());
    }

    /** Logs each rank's plan; nothing on the CPU backend. A setting the planner rejects is logged, not fatal. */
    public static void log(LoadedModel model, EngineConfig engine) {
        if (model.cudaDevices().isEmpty()) {
            return;
        }
        try {
            for (RankMemoryPlans.RankPlan p : RankMemoryPlans.plan(planner(model, engine), model.cudaDevices())) {
                log.info(p.line());
            }
        } catch (IllegalArgumentException e) {
            log.warn("memory plan not computed: {}", e.getMessage());
        }
    }
}
