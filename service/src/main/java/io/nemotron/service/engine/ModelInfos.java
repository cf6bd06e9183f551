package io.nemotron.service.engine;

import io.nemotron.api.v1.ModelInfo;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.demo.DemoModel;
import io.nemotron.core.runtime.LoadedModel;
import java.nio.file.Path;

/** The static part of ModelInfo, from the checkpoint. */
final class ModelInfos {
    private ModelInfos() {}

    static ModelInfo of(LoadedModel model, String backend) {
        ModelConfig c = model.config();
        Path dir = model.dir().toAbsolutePath().normalize();
        return ModelInfo.newBuilder()
                .setName(dir.getFileName() != null ? dir.getFileName().toString() : dir.toString())
                .setArchitecture(c.architecture())
                .setContextLength(c.maxPositionEmbeddings())
                .setDtype(dtype(c.torchDtype()))
                .setBackend(backend)
                .setTensorParallelSize(model.tensorParallel())
                .setRandomWeights(isRandom(dir))
                .setParameters(model.parameters())
                .setVocabSize(c.vocabSize())
                .setKvCacheDtype(model.kvFormat().dtype().label())
                .setKvBytesPerToken(model.kvBytesPerToken())
                .build();
    }

    static boolean isRandom(Path dir) {
        return DemoModel.isDemo(dir);
    }

    /** config.json's torch_dtype in the short names the CLI uses. */
    private static String dtype(String torchDtype) {
        if (torchDtype == null) {
            return "";
        }
        return switch (torchDtype) {
            case "float32" -> "f32";
            case "bfloat16" -> "bf16";
            case "float16" -> "f16";
            default -> torchDtype;
        };
    }
}
