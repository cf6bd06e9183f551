package io.nemotron.core.backend.cpu;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.RandomCheckpoint;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/** Tiny random checkpoints for the weight cache tests, shaped to hit the packed layout's edges. */
final class WeightCacheFixtures {
    private WeightCacheFixtures() {}

    /**
     * vocab 253 and FFN width 75: the lm_head's rows end in a partial block (253 is no multiple of any vector width)
     * and down_proj has an odd column count, so the packed layout's zero padding is exercised.
     */
    static ModelConfig config(boolean tied, DType dtype) {
        List<BlockConfig> blocks = Collections.nCopies(2, new BlockConfig(new AttentionKind.Full(2), new FfnKind.Mlp(75)));
        String torch = switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            default -> "bfloat16";
        };
        return new ModelConfig("LlamaForCausalLM", "llama", 48, 4, 12, 253, 256, 1e-5, 500000.0, null, tied, 1,
                List.of(2), torch, blocks);
    }

    static Path write(Path dir, boolean tied, DType dtype, long seed) {
        RandomCheckpoint.write(dir, config(tied, dtype), dtype, seed, null);
        return dir;
    }
}
