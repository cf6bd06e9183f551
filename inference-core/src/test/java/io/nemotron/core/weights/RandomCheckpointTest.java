package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.config.ModelStats;
import io.nemotron.core.testing.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Random checkpoints are complete, loadable, deterministic, and have the HF init statistics. */
class RandomCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void nasCheckpointForTheTinyConfig() {
        ModelConfig tiny = ModelConfigLoader.load(Reference.tinyF32());
        RandomCheckpoint.write(dir, tiny, DType.BF16, 7, null);
        assertEquals(tiny, ModelConfigLoader.load(dir), "config.json reads back to the same config");
        try (var r = SafetensorsReader.open(dir)) {
            CheckpointLayout.validate(tiny, r);
            for (String name : r.names()) {
                Tensor t = r.tensor(name);
                assertEquals(DType.BF16, t.dtype());
                if (name.endsWith("norm.weight")) {
                    for (long i = 0; i < t.numel(); i++) {
                        assertEquals(1.0f, DTypeCodec.get(DType.BF16, t.data(), i), name);
                    }
                }
            }
            assertInitStatistics(r.tensor("model.embed_tokens.weight")); // 32768 values
            assertInitStatistics(r.tensor("model.layers.0.mlp.gate_proj.weight"));
        }
    }

    private static void assertInitStatistics(Tensor t) {
        double sum = 0, sumSq = 0, max = 0;
        long n = t.numel();
        for (long i = 0; i < n; i++) {
            double x = DTypeCodec.get(t.dtype(), t.data(), i);
            sum += x;
            sumSq += x * x;
            max = Math.max(max, Math.abs(x));
        }
        double mean = sum / n;
        double std = Math.sqrt(sumSq / n - mean * mean);
        // Standard error of the mean is 0.02 / sqrt(n) < 1.2e-4; of the std about 0.02 / sqrt(2n) < 1e-4.
        assertTrue(Math.abs(mean) < 6e-4, t.name() + " mean " + mean);
        assertTrue(Math.abs(std - 0.02) < 6e-4, t.name() + " std " + std);
        assertTrue(max > 0.05 && max < 0.07, t.name() + " max |x| " + max + " (Irwin-Hall tails end at 3.46 sigma)");
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws Exception {
        var spec = new RandomCheckpoint.Spec(64, 2, 4, 2, 128, 100, DType.F32, 11);
        RandomCheckpoint.write(dir.resolve("a"), spec, null);
        RandomCheckpoint.write(dir.resolve("b"), spec, null);
        RandomCheckpoint.write(dir.resolve("c"), new RandomCheckpoint.Spec(64, 2, 4, 2, 128, 100, DType.F32, 12), null);
        byte[] a = Files.readAllBytes(dir.resolve("a/model.safetensors"));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b/model.safetensors")));
        assertNotEquals(java.util.Arrays.hashCode(a), java.util.Arrays.hashCode(Files.readAllBytes(dir.resolve("c/model.safetensors"))));
    }

    @Test
    void llamaSpecWithTokenizer() throws Exception {
        var spec = new RandomCheckpoint.Spec(64, 3, 8, 4, 172, 512, DType.F16, 1);
        ModelConfig config = RandomCheckpoint.write(dir, spec, Reference.stories());
        assertEquals(config, ModelConfigLoader.load(dir));
        assertEquals(3, config.numLayers());
        assertEquals(8, config.headDim());
        assertArrayEquals(Files.readAllBytes(Reference.stories().resolve("tokenizer.json")),
                Files.readAllBytes(dir.resolve("tokenizer.json")));
        assertTrue(Files.exists(dir.resolve("tokenizer_config.json")));
        try (var r = SafetensorsReader.open(dir)) {
            CheckpointLayout.validate(config, r);
            long numel = r.names().stream().mapToLong(n -> r.tensor(n).numel()).sum();
            assertEquals(ModelStats.of(config).parameters(), numel);
        }
    }

    /** The small decode-benchmark shape (~134M parameters, ~270 MB BF16). */
    @Test
    @Tag("slow")
    void benchmarkShape768() throws Exception {
        var spec = new RandomCheckpoint.Spec(768, 12, 12, 12, 2048, 32000, DType.BF16, 0);
        long start = System.nanoTime();
        ModelConfig config = RandomCheckpoint.write(dir, spec, null);
        double seconds = (System.nanoTime() - start) / 1e9;
        long params = 2L * 32000 * 768 + 768 + 12L * (2 * 768 + 4L * 768 * 768 + 3L * 768 * 2048);
        assertEquals(params, ModelStats.of(config).parameters());
        try (var r = SafetensorsReader.open(dir)) {
            CheckpointLayout.validate(config, r);
        }
        assertTrue(Files.size(dir.resolve("model.safetensors")) > 2 * params);
        assertTrue(seconds < 60, "took " + seconds + " s");
    }
}
