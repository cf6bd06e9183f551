package io.nemotron.core.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelStats;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.Transformer;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.RandomCheckpoint;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The benchmark's slice (scripts/gpu-slice.json) against the Ultra config, and its byte, FLOP and bandwidth
 * arithmetic against values computed by hand here (never by the code under test).
 */
class GpuSliceTest {
    static final Path SPEC = Path.of("..", "scripts", "gpu-slice.json").toAbsolutePath().normalize();
    static final String ULTRA = "nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    // Hand-computed from the Ultra config.json: hidden 16384, 128 heads x 128, 8 kv heads (n_heads_in_group 16).
    // Layer 134: attention no_op, ffn_mult 39.0 -> 2 * 39 * 16384 / 3 = 425984 (= 1664 * 256, already a multiple).
    // Layers 157-159: FULL, ffn_mult 4.875 -> 2 * 4.875 * 16384 / 3 = 53248 (= 208 * 256).
    static final long WIDE_LINEAR = 3L * 425984 * 16384;                                        // 20,937,965,568
    static final long FULL_LINEAR = 2L * 16384 * 16384 + 2L * 1024 * 16384 + 3L * 53248 * 16384; // 3,187,671,040
    static final long LINEAR = WIDE_LINEAR + 3 * FULL_LINEAR;                                    // 30,500,978,688
    static final long NORMS = 1 + 3 * 2;                                                          // one per sub-block
    static final long WEIGHT_BYTES = 2 * (LINEAR + NORMS * 16384);                                // 61,002,186,752
    static final long KV_PER_TOKEN = 3L * 2 * 8 * 128 * 2;                                        // 12,288

    private static ModelConfig ultra() {
        return ModelConfigLoader.load(Reference.existing(ULTRA));
    }

    @Test
    void sliceIsUltrasWidestFfnAndThreeFullBlocks() {
        GpuSlice slice = GpuSlice.read(SPEC);
        ModelConfig ultra = ultra();
        assertEquals(List.of(134, 157, 158, 159), slice.layers());
        int widest = 0;
        for (BlockConfig b : ultra.blocks()) {
            if (b.ffn() instanceof FfnKind.Mlp m) {
                widest = Math.max(widest, m.intermediateSize());
            }
        }
        assertEquals(425984, widest, "Ultra's widest FFN");
        ModelConfig c = slice.config(ultra);
        assertEquals(16384, c.hiddenSize());
        assertEquals(128, c.numAttentionHeads());
        assertEquals(128, c.headDim());
        assertEquals(4096, c.vocabSize());
        assertEquals(new BlockConfig(new AttentionKind.None(), new FfnKind.Mlp(425984)), c.blocks().get(0));
        for (int i = 1; i < 4; i++) {
            assertEquals(new BlockConfig(new AttentionKind.Full(8), new FfnKind.Mlp(53248)), c.blocks().get(i));
        }
        assertEquals(List.of(1, 8, 64), slice.decodeBatches());
        assertEquals(1024, slice.decodeContext());
        assertTrue(slice.repeats() >= 20);
    }

    @Test
    void countsMatchHandComputedValues() {
        ModelConfig c = GpuSlice.read(SPEC).config(ultra());
        assertEquals(30_500_978_688L, LINEAR);
        assertEquals(LINEAR, GpuSlice.linearParams(c));
        assertEquals(61_002_186_752L, GpuSlice.blockWeightBytes(c));
        assertEquals(WEIGHT_BYTES, GpuSlice.blockWeightBytes(c));
        assertEquals(KV_PER_TOKEN, ModelStats.of(c).kvBytesPerToken(2));
        // decode at batch 64, context 1024: weights once + 64 x 1025 tokens of K/V
        assertEquals(WEIGHT_BYTES + 64L * 1025 * 12288, GpuSlice.decodeBytes(c, 64, 1024));
        assertEquals(61_002_186_752L + 12_595_200L, GpuSlice.decodeBytes(c, 1, 1024));
        // attention: 4 * 128 * 128 = 65536 FLOPs per attended position per FULL layer; position 1024 sees 1025
        assertEquals(8 * (2 * LINEAR + 65536L * 1025 * 3), GpuSlice.decodeFlops(c, 8, 1024));
        // prefill of 2048: sum of (p + 1) for p < 2048 = 2048 * 2049 / 2 = 2,098,176
        assertEquals(2 * LINEAR * 2048 + 65536L * 2_098_176 * 3, GpuSlice.prefillFlops(c, 2048));
        // ... in chunks of 512: weights four times, the K/V of 512, 1024, 1536, 2048 tokens
        assertEquals(4 * WEIGHT_BYTES + (512L + 1024 + 1536 + 2048) * 12288, GpuSlice.prefillBytes(c, 2048, 512));
    }

    @Test
    void peakBandwidthAndDerivedRates() {
        // H100 SXM5: 2619 MHz memory clock, 5120-bit bus: 2.619e9 * 2 * 640 B = 3.35232e12 B/s
        assertEquals(3.35232e12, GpuSlice.peakBandwidth(2_619_000, 5120), 1);
        // A100 40GB: 1215 MHz, 5120 bits: 1.5552e12 B/s
        assertEquals(1.5552e12, GpuSlice.peakBandwidth(1_215_000, 5120), 1);
        // median of {3, 1, 2} = 2 ms; 6e9 B / 2 ms = 3e12 B/s = half of a 6e12 peak; 2e12 FLOP / 2 ms = 1000 TFLOP/s
        ObjectNode r = GpuSliceBenchmark.result("x", "decode", 1, 1024, 4, new double[] {3, 1, 2}, 6_000_000_000L,
                2_000_000_000_000L, 6e12);
        assertEquals(2.0, r.get("median_ms").asDouble());
        assertEquals(2.0, r.get("mean_ms").asDouble());
        assertEquals(1.0, r.get("min_ms").asDouble());
        assertEquals(3e12, r.get("bandwidth_bytes_per_s").asDouble(), 1);
        assertEquals(0.5, r.get("bandwidth_fraction_of_peak").asDouble(), 1e-12);
        assertEquals(1000.0, r.get("tflops").asDouble(), 1e-9);
        assertEquals(2000.0, r.get("tokens_per_s").asDouble(), 1e-9);
        // an even count: the mean of the middle two
        assertEquals(2.5, GpuSliceBenchmark.result("y", "decode", 1, 0, 1, new double[] {4, 1, 3, 2}, 1, 1, 1)
                .get("median_ms").asDouble());
    }

    @Test
    void aSpecThatDriftsFromUltraIsRefused() throws Exception {
        String json = Files.readString(SPEC).replace("\"intermediate_size\": 425984", "\"intermediate_size\": 425728");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GpuSlice.parse(json).config(ultra()));
        assertTrue(e.getMessage().contains("block 0 (layer 134) intermediate_size: spec 425728, config 425984"), e.getMessage());
        String fewRepeats = Files.readString(SPEC).replace("\"repeats\": 20", "\"repeats\": 5");
        assertThrows(IllegalArgumentException.class, () -> GpuSlice.parse(fewRepeats));
    }

    @Test
    void withoutAGpuTheMainWritesSkippedJson(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.nemotron.core.backend.cuda.CudaDevice.unavailableReason().isPresent(),
                "a GPU is here: the benchmark itself would run");
        Path out = tmp.resolve("bench.json");
        GpuSliceBenchmark.main(new String[] {"--spec", SPEC.toString(), "--ultra-config", Reference.existing(ULTRA).toString(),
                "--output", out.toString()});
        JsonNode j = JSON.readTree(Files.readString(out));
        assertEquals("skipped", j.get("status").asString());
        assertTrue(j.get("reason").asString().startsWith("no usable GPU: "), j.toString());
        assertEquals(WEIGHT_BYTES, j.get("slice").get("block_weight_bytes").asLong());
    }

    /**
     * The dry run of the PyTorch twin on a machine without torch or without CUDA: exit 0, a "skipped" JSON that still
     * carries the slice's counts (which must equal the hand-computed ones: the script counts on its own), and a
     * side-by-side that says why it is skipped.
     */
    @Test
    void torchTwinSkipsCleanlyWithoutCuda(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path script = SPEC.resolveSibling("gpu-slice-torch.py");
        Path out = tmp.resolve("torch.json");
        Path cmp = tmp.resolve("comparison.json");
        Process p;
        try {
            p = new ProcessBuilder("python3", script.toString(), "--spec", SPEC.toString(), "--output", out.toString(),
                    "--compare", tmp.resolve("absent.json").toString(), "--comparison", cmp.toString())
                    .redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            org.junit.jupiter.api.Assumptions.abort("no python3 here: " + e.getMessage());
            return;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), log);
        JsonNode j = JSON.readTree(Files.readString(out));
        org.junit.jupiter.api.Assumptions.assumeTrue(j.get("status").asString().equals("skipped"),
                "python3 here has torch with CUDA: the twin ran for real");
        assertTrue(j.get("reason").asString().startsWith("torch not importable")
                || j.get("reason").asString().startsWith("no CUDA"), j.toString());
        assertEquals("pytorch-eager", j.get("implementation").asString());
        assertEquals(LINEAR, j.get("slice").get("linear_params").asLong());
        assertEquals(WEIGHT_BYTES, j.get("slice").get("block_weight_bytes").asLong());
        assertEquals(KV_PER_TOKEN, j.get("slice").get("kv_bytes_per_token").asLong());
        JsonNode c = JSON.readTree(Files.readString(cmp));
        assertEquals("skipped", c.get("status").asString());
        assertTrue(log.contains("gpu-slice-torch: skipped: "), log);
    }

    /**
     * The measuring loop itself (KV fill by chunked prefill, block tables, decode batches, chunked prefill, counting)
     * on the CPU backend, at a shrunk slice of the same structure (a no-op-attention wide FFN, then two FULL blocks),
     * so that a GPU session does not find its bookkeeping bugs.
     */
    @Test
    void theMeasuringLoopRunsOnTheCpuBackendAtAShrunkSlice(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String json = Files.readString(SPEC)
                .replace("\"batches\": [1, 8, 64], \"context\": 1024", "\"batches\": [1, 3], \"context\": 40")
                .replace("\"tokens\": 2048, \"chunk\": 512", "\"tokens\": 50, \"chunk\": 16")
                .replace("\"warmup\": 3", "\"warmup\": 1");
        GpuSlice slice = GpuSlice.parse(json);
        assertEquals(40, slice.decodeContext());
        ModelConfig c = new ModelConfig("DeciLMForCausalLM", "nemotron-nas", 64, 4, 16, 4096, 131072, 1e-5, 500000,
                ultra().ropeScaling(), false, 0, List.of(1), "bfloat16", List.of(
                        new BlockConfig(new AttentionKind.None(), new FfnKind.Mlp(512)),
                        new BlockConfig(new AttentionKind.Full(2), new FfnKind.Mlp(256)),
                        new BlockConfig(new AttentionKind.Full(2), new FfnKind.Mlp(256))));
        RandomCheckpoint.write(tmp, c, DType.BF16, 7, null);
        try (SafetensorsReader st = SafetensorsReader.open(tmp)) {
            ModelWeights w = ModelWeights.from(c, st);
            try (CpuBackend cpu = new CpuBackend(c, w.embedTokens(), 1, 16)) {
                ArrayNode cases = GpuSliceBenchmark.measure(slice, new Transformer(c, w, cpu), () -> { }, 1e12);
                List<String> names = new ArrayList<>();
                cases.forEach(x -> names.add(x.get("name").asString()));
                assertEquals(List.of("decode_b1", "decode_b3", "prefill_50"), names);
                for (JsonNode x : cases) {
                    assertEquals(20, x.get("repeats").asInt());
                    assertTrue(x.get("median_ms").asDouble() > 0, x.toString());
                }
                assertEquals(GpuSlice.decodeBytes(c, 3, 40), cases.get(1).get("bytes").asLong());
                assertEquals(GpuSlice.prefillFlops(c, 50), cases.get(2).get("flops").asLong());
                assertEquals(3, cases.get(1).get("tokens").asInt());
            }
        }
    }
}
