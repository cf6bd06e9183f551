package io.nemotron.service.engine;

import io.nemotron.api.v1.ModelInfo;
import io.nemotron.core.engine.EngineSnapshot;
import io.nemotron.core.engine.InferenceEngine;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.tokenizer.Tokenizer;
import io.nemotron.service.chat.ChatPreparer;

/**
 * A loaded, warmed-up model, its engine and its chat preparation: what every RPC works with.
 *
 * @param staticInfo ModelInfo without the engine's live KV figures (computed once: counting parameters walks every tensor)
 */
public record ServingModel(LoadedModel model, InferenceEngine engine, ChatPreparer chat, ModelInfo staticInfo) {

    public Tokenizer tokenizer() {
        return model.tokenizer();
    }

    /** One valid token (BOS when the model has one): the warm-up and the circuit breaker's probes run it. */
    public static int[] probePrompt(LoadedModel model) {
        return new int[] {model.tokenizer().bosTokenId().orElse(model.config().bosTokenId())};
    }

    public int[] probePrompt() {
        return probePrompt(model);
    }

    public int contextLength() {
        return model.config().maxPositionEmbeddings();
    }

    /** ModelInfo with the KV pool as the engine reports it now. */
    public ModelInfo info() {
        EngineSnapshot s = engine.snapshot();
        return staticInfo.toBuilder()
                .setBlockSize(s.blockSize())
                .setKvCapacityTokens((long) s.totalBlocks() * s.blockSize())
                .build();
    }
}
