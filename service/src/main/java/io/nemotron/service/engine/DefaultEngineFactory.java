package io.nemotron.service.engine;

import io.nemotron.core.engine.Engine;
import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.engine.InferenceEngine;
import io.nemotron.core.runtime.LoadedModel;
import org.springframework.stereotype.Component;

/** Production engines: the continuous-batching {@link Engine} over the loaded model. */
@Component
public class DefaultEngineFactory implements EngineFactory {
    @Override
    public InferenceEngine create(LoadedModel model, EngineConfig config) {
        return new Engine(model, config);
    }
}
