package io.nemotron.service.engine;

import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.engine.InferenceEngine;
import io.nemotron.core.runtime.LoadedModel;

/**
 * Makes the engine for a loaded model. A bean, so that tests serve through a fake engine while production
 * wires the continuous-batching {@code Engine}.
 */
@FunctionalInterface
public interface EngineFactory {
    InferenceEngine create(LoadedModel model, EngineConfig config);
}
