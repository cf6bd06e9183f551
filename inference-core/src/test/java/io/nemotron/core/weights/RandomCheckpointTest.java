package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    /**
     * An FP8 random checkpoint is the ModelOpt export of the BF16 one of the same seed: the loader's checks pass, every
     * linear but the head is F8_E4M3 with scalar scales, weight_scale = amax / 448 of that BF16 tensor (recomputed here),
     * each code is the nearest E4M3 value of W / weight_scale (within half a quantum), and everything else is the same
     * BF16 bytes.
     */
    @Test
    void fp8CheckpointIsTheModelOptExportOfTheBf16One() throws Exception {
        var bf16Spec = new RandomCheckpoint.Spec(64, 2, 4, 2, 96, 100, DType.BF16, 5);
        var fp8Spec = new RandomCheckpoint.Spec(64, 2, 4, 2, 96, 100, DType.F8_E4M3, 5);
        ModelConfig config = RandomCheckpoint.write(dir.resolve("fp8"), fp8Spec, null);
        RandomCheckpoint.write(dir.resolve("bf16"), bf16Spec, null);
        assertEquals("bfloat16", config.torchDtype());
        assertEquals(config, ModelConfigLoader.load(dir.resolve("fp8")));
        ModelOptConfig quant = ModelOptConfig.load(dir.resolve("fp8"));
        assertTrue(quant.fp8());
        assertFalse(quant.kvCacheFp8());
        assertEquals(java.util.List.of("lm_head"), quant.exclude());
        String json = Files.readString(dir.resolve("fp8").resolve(ModelOptConfig.HF_QUANT_CONFIG));
        assertTrue(json.contains("\"name\": \"modelopt\"") && json.contains("\"kv_cache_quant_algo\": null"), json);
        try (var f = SafetensorsReader.open(dir.resolve("fp8")); var b = SafetensorsReader.open(dir.resolve("bf16"))) {
            CheckpointLayout.of(config, quant).validate(f);
            int linears = 0;
            for (String name : b.names()) {
                Tensor w = b.tensor(name);
                boolean linear = w.shape().length == 2 && !name.startsWith("model.embed_tokens") && !name.startsWith("lm_head");
                if (!linear) {
                    assertEquals(DType.BF16, f.tensor(name).dtype(), name);
                    assertArrayEquals(w.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                            f.tensor(name).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), name);
                    continue;
                }
                linears++;
                String module = name.substring(0, name.length() - ".weight".length());
                Tensor codes = f.tensor(name);
                assertEquals(DType.F8_E4M3, codes.dtype(), name);
                assertArrayEquals(w.shape(), codes.shape(), name);
                Tensor ws = f.tensor(module + ".weight_scale");
                Tensor is = f.tensor(module + ".input_scale");
                assertEquals(0, ws.shape().length, module);
                assertEquals(0, is.shape().length, module);
                assertEquals(RandomCheckpoint.FP8_INPUT_SCALE, DTypeCodec.get(DType.F32, is.data(), 0), module);
                double amax = 0;
                for (long i = 0; i < w.numel(); i++) {
                    amax = Math.max(amax, Math.abs(DTypeCodec.get(DType.BF16, w.data(), i)));
                }
                float scale = DTypeCodec.get(DType.F32, ws.data(), 0);
                assertEquals((float) (amax / 448), scale, module);
                for (long i = 0; i < w.numel(); i++) {
                    double x = DTypeCodec.get(DType.BF16, w.data(), i) / scale;
                    int code = codes.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) & 0xFF;
                    double v = e4m3(code);
                    // E4M3 rounding to nearest: half a quantum, which is 2^-4 of the binade's start for normals and
                    // 2^-10 for subnormals; |x| <= 448 by the scale, up to the scale's float rounding
                    double halfQuantum = Math.abs(x) < 0x1p-6 ? 0x1p-10 : Math.scalb(1.0, Math.getExponent(x) - 4);
                    assertTrue(Math.abs(v - x) <= halfQuantum * (1 + 1e-6), name + "[" + i + "]: " + x + " -> code "
                            + Integer.toHexString(code) + " = " + v);
                }
            }
            assertEquals(2 * 7, linears);
        }
    }

    /** E4M3FN by its definition (bias 7, exponent 0 subnormal); no NaN code is asked for. */
    private static double e4m3(int code) {
        int exponent = (code >> 3) & 0xF;
        int mantissa = code & 7;
        double m = exponent == 0 ? Math.scalb(mantissa / 8.0, -6) : Math.scalb(1 + mantissa / 8.0, exponent - 7);
        return (code & 0x80) != 0 ? -m : m;
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
