package io.nemotron.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.testing.NasFloat64Reference;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import io.nemotron.core.weights.CheckpointLayout;
import io.nemotron.core.weights.ModelOptConfig;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** K/V cache scales of a ModelOpt checkpoint calibrated for an FP8 cache: read per layer, 1.0 where absent. */
class KvScalesTest {
    @TempDir
    Path dir;

    @Test
    void scalesAreTheCalibratedAmaxOver448OnFullLayersAndOneElsewhere() {
        Path fp8 = TinyFp8Checkpoint.write(dir.resolve("kv"), true);
        assertTrue(ModelOptConfig.load(fp8).kvCacheFp8());
        ModelConfig config = ModelConfigLoader.load(fp8);
        // the calibration run again, independently: the largest |k| (after RoPE) and |v| of each FULL layer
        NasFloat64Reference calibration;
        try (SafetensorsReader bf16 = SafetensorsReader.open(io.nemotron.core.testing.Reference.tinyBf16())) {
            calibration = new NasFloat64Reference(config, bf16, false);
            java.util.SplittableRandom random = new java.util.SplittableRandom(17);
            for (int p = 0; p < TinyFp8Checkpoint.CALIBRATION_PROMPTS; p++) {
                int[] ids = new int[TinyFp8Checkpoint.CALIBRATION_LENGTH];
                ids[0] = config.bosTokenId();
                for (int i = 1; i < ids.length; i++) {
                    ids[i] = 3 + random.nextInt(config.vocabSize() - 3);
                }
                calibration.forward(ids);
            }
        }
        try (SafetensorsReader w = SafetensorsReader.open(fp8)) {
            CheckpointLayout.of(config, ModelOptConfig.load(fp8)).validate(w);   // k/v scales are known tensors
            KvScales scales = KvScales.read(config, w);
            assertEquals(List.of(), scales.missing());
            for (int i = 0; i < config.numLayers(); i++) {
                String p = "model.layers." + i + ".self_attn.";
                if (config.blocks().get(i).attention() instanceof AttentionKind.Full) {
                    assertEquals((float) (calibration.kvAmax.get(p + "k_proj") / 448), scales.k()[i], "k of layer " + i);
                    assertEquals((float) (calibration.kvAmax.get(p + "v_proj") / 448), scales.v()[i], "v of layer " + i);
                } else {
                    assertEquals(1f, scales.k()[i]);
                    assertEquals(1f, scales.v()[i]);
                }
            }
            assertEquals(KvCacheDtype.FP8, scales.format(KvCacheDtype.FP8).dtype());
        }
        // the layers without scales in a checkpoint that has none are reported (the FP8 cache then warns)
        Path plain = TinyFp8Checkpoint.write(dir.resolve("plain"), false);
        try (SafetensorsReader w = SafetensorsReader.open(plain)) {
            assertEquals(List.of(0, 3, 5), KvScales.read(config, w).missing());
        }
    }
}
