package io.nemotron.core.testing;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.ModelOptFp8Writer;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The tiny ModelOpt-FP8 nemotron-nas checkpoint of issue 17: the reference nas-tiny-a (BF16: every block variant)
 * quantized by {@link ModelOptFp8Writer}, with input scales from a float64 calibration run ({@link NasFloat64Reference}
 * on the BF16 weights over {@link #CALIBRATION_PROMPTS} seeded prompts, amax / 448) and {@code lm_head} excluded.
 */
public final class TinyFp8Checkpoint {
    public static final int CALIBRATION_PROMPTS = 4;
    public static final int CALIBRATION_LENGTH = 32;

    private TinyFp8Checkpoint() {}

    /** Writes the checkpoint into {@code dir}; with {@code kvCacheFp8} also k/v scales and kv_cache_quant_algo FP8. */
    public static Path write(Path dir, boolean kvCacheFp8) {
        Path source = Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(source);
        try (SafetensorsReader weights = SafetensorsReader.open(source)) {
            NasFloat64Reference calibration = new NasFloat64Reference(config, weights, false);
            SplittableRandom random = new SplittableRandom(17);
            for (int p = 0; p < CALIBRATION_PROMPTS; p++) {
                int[] ids = new int[CALIBRATION_LENGTH];
                ids[0] = config.bosTokenId();
                for (int i = 1; i < ids.length; i++) {
                    ids[i] = 3 + random.nextInt(config.vocabSize() - 3);
                }
                calibration.forward(ids);
            }
            ModelOptFp8Writer.write(config, weights, source, dir, calibration.inputAmax,
                    kvCacheFp8 ? calibration.kvAmax : null, List.of("lm_head"), DType.BF16);
        }
        return dir;
    }
}
