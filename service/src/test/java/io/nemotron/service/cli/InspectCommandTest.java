package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code nemotron inspect} through the real CLI entry point, against the published Ultra numbers. */
class InspectCommandTest {

    private static Path reference(String relative) {
        Path p = CliRun.reference(relative);
        assertTrue(Files.exists(p), "missing reference file " + p);
        return p;
    }

    private static final Path ULTRA = reference("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json");

    private static JsonNode json(String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(0, r.exitCode(), r.err());
        return JsonMapper.builder().build().readTree(r.out());
    }

    @Test
    void ultraJsonHasThePublishedNumbers() {
        JsonNode j = json("inspect", "--config", ULTRA.toString(), "--output", "json");
        assertEquals(253_401_268_224L, j.get("parameters").asLong());
        assertEquals(262_144L, j.get("kv_bytes_per_token").asLong());
        assertEquals(64, j.get("blocks").get("attention").get("full").asInt());
        assertEquals(0, j.get("blocks").get("attention").get("linear").asInt());
        assertEquals(98, j.get("blocks").get("attention").get("none").asInt());
        assertEquals(81, j.get("blocks").get("ffn").get("mlp").asInt());
        assertEquals(0, j.get("blocks").get("ffn").get("linear").asInt());
        assertEquals(81, j.get("blocks").get("ffn").get("none").asInt());
        // tp 1, bf16: every parameter at 2 bytes on one GPU, which cannot fit in 80 GiB
        assertEquals(2 * 253_401_268_224L, j.get("per_rank_weight_bytes").asLong());
        assertEquals(0, j.get("kv_capacity_tokens").asLong());
    }

    @Test
    void ultraOnEightGpus() {
        JsonNode j = json("inspect", "--config", ULTRA.toString(), "--tensor-parallel", "8", "--gpu-memory-gib", "80",
                "--output", "json");
        long weights = j.get("per_rank_weight_bytes").asLong();
        // By hand: every Ultra split is exact over 8 ranks (16 q heads, 1 kv head, 16032 vocab rows, FFN widths are
        // multiples of 256), except the norms, which every rank holds whole: 64 input + 81 post-attention + 1 final.
        long norms = (64 + 81 + 1) * 16384L;
        assertEquals((2 * 253_401_268_224L - 2 * norms) / 8 + 2 * norms, weights);
        // the CUDA backend's start-up plan; MemoryPlannerTest recomputes this figure from the raw config JSON
        assertEquals(366_256L, j.get("kv_capacity_tokens").asLong());
        assertEquals(366_256L / 16, j.get("kv_blocks").asLong());
    }

    @Test
    void aModelThatCannotFitSaysWhy() {
        JsonNode j = json("inspect", "--config", ULTRA.toString(), "--output", "json");
        assertEquals(0, j.get("kv_capacity_tokens").asLong());
        assertTrue(j.get("does_not_fit").asString().startsWith("model does not fit on 1 GPU(s)"), j.toString());
    }

    @Test
    void fp8HalvesTheKvBytes() {
        JsonNode j = json("inspect", "--config", ULTRA.toString(), "--kv-dtype", "fp8", "--weights-dtype", "fp8", "--output", "json");
        assertEquals(131_072L, j.get("kv_bytes_per_token").asLong());
    }

    @Test
    void textFormIsReadable() {
        CliRun r = CliRun.of("inspect", "--config", ULTRA.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("253,401,268,224"), r.out());
        assertTrue(r.out().contains("full 64, linear 0, none 98"), r.out());
        assertTrue(r.out().contains("mlp 81, linear 0, none 81"), r.out());
        assertTrue(r.out().contains("262,144"), r.out());
    }

    @Test
    void checkpointFolderWorksToo() {
        JsonNode j = json("inspect", "--config", reference("nemotron-nas-tiny/nas-tiny-a-f32").toString(), "--output", "json");
        assertEquals(1, j.get("blocks").get("attention").get("linear").asInt());
        assertEquals(448, j.get("kv_bytes_per_token").asLong()); // 2 · (4 + 2 + 1) kv heads · 16 · 2 bytes
    }

    @Test
    void errorsAreOneLineNamingTheInput() {
        CliRun missing = CliRun.of("inspect", "--config", "/no/such/config.json");
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().startsWith("error: ") && missing.err().contains("/no/such/config.json"), missing.err());
        CliRun badDtype = CliRun.of("inspect", "--config", ULTRA.toString(), "--kv-dtype", "int4");
        assertEquals(1, badDtype.exitCode());
        assertTrue(badDtype.err().contains("--kv-dtype") && badDtype.err().contains("int4"), badDtype.err());
        CliRun badTp = CliRun.of("inspect", "--config", ULTRA.toString(), "--tensor-parallel", "3");
        assertEquals(1, badTp.exitCode());
        assertTrue(badTp.err().contains("num_attention_heads"), badTp.err());
        CliRun badBackend = CliRun.of("inspect", "--config", ULTRA.toString(), "--backend", "cpu");
        assertEquals(1, badBackend.exitCode());
        assertTrue(badBackend.err().startsWith("error: ") && badBackend.err().contains("--backend 'cpu'"),
                badBackend.err());
        assertTrue(CliRun.of("inspect").exitCode() != 0, "--config is required");
    }

    /**
     * Issue 17, must-show 5: the Ultra FP8 checkpoint (its config.json and a ModelOpt hf_quant_config.json with lm_head
     * excluded, as published) on four 80 GiB GPUs with an FP8 KV cache. Both figures are recomputed here from the raw
     * config JSON, sharing no code with ModelStats or the planner.
     */
    @Test
    void ultraFp8FolderOnFourGpusWithAnFp8Cache(@TempDir Path dir) throws Exception {
        Files.copy(ULTRA, dir.resolve("config.json"));
        Files.writeString(dir.resolve("hf_quant_config.json"), "{\"producer\": {\"name\": \"modelopt\"}, \"quantization\":"
                + " {\"quant_algo\": \"FP8\", \"kv_cache_quant_algo\": null, \"exclude_modules\": [\"lm_head\"]}}");
        JsonNode j = json("inspect", "--config", dir.toString(), "--tensor-parallel", "4", "--kv-dtype", "fp8",
                "--output", "json");
        assertEquals("fp8", j.get("weights_dtype").asString());   // from the folder's quantization config
        assertEquals("modelopt fp8 (excluded: lm_head)", j.get("quantization").asString());

        JsonNode raw = JsonMapper.builder().build().readTree(Files.readString(ULTRA));
        long h = raw.get("hidden_size").asLong();
        long heads = raw.get("num_attention_heads").asLong();
        long d = h / heads;
        long v = raw.get("vocab_size").asLong();
        int tp = 4;
        // BF16 (2 bytes): the vocab-split embedding and lm_head, every norm; FP8 (1 byte): every projection
        long bf16 = 2 * (v / tp) * h + h;
        long fp8 = 0;
        long kvPerToken = 0;
        long widestInter = 0;
        long widestKv = 0;
        for (JsonNode block : raw.get("block_configs")) {
            JsonNode attn = block.get("attention");
            if (!attn.get("no_op").asBoolean()) {
                long kvHeads = Math.max(1, heads / attn.get("n_heads_in_group").asLong() / tp);
                bf16 += h;
                fp8 += 2 * (heads / tp) * d * h + 2 * kvHeads * d * h;
                kvPerToken += 2 * kvHeads * d;                     // K and V, one byte each
                widestKv = Math.max(widestKv, kvHeads * d);
            }
            JsonNode ffn = block.get("ffn");
            if (!ffn.get("no_op").asBoolean()) {
                long n = (long) (2 * ffn.get("ffn_mult").asDouble() * h / 3);
                long inter = n % 256 == 0 ? n : n + 256 - n % 256;
                bf16 += h;
                fp8 += 3 * (inter / tp) * h;
                widestInter = Math.max(widestInter, inter);
            }
        }
        long weights = 2 * bf16 + fp8;
        assertEquals(weights, j.get("per_rank_weight_bytes").asLong());
        // about 64.4 GB a GPU: the published FP8 checkpoint's ~257.6 GB over four
        assertTrue(weights > 64.0e9 && weights < 64.8e9, "weights per GPU " + weights);

        // the planner's budget, as MemoryPlannerTest derives it: 90% of 80 GiB minus weights, workspace, 1 GiB reserve
        long gib = 1L << 30;
        long budget = (long) Math.floor(80 * gib * 0.9);
        int rows = 2048, seqs = 256, blockSize = 16, maxLen = 131072;
        long activations = rows * 2L * (3 * h + 2 * (heads / tp) * d + 2 * widestKv + 2 * (widestInter / tp));
        long logits = seqs * 4L * (v / tp + v);
        long splitKv = 16L * (heads / tp) * (maxLen / 512) * (d + 2) * 4;
        long stepInputs = rows * 16L + seqs * ((maxLen / blockSize) * 4L + 64);
        long workspace = activations + logits + splitKv + stepInputs + (32L << 20);
        assertEquals(workspace, j.get("workspace_bytes").asLong());
        long blocks = (budget - weights - workspace - gib) / (blockSize * kvPerToken);
        assertEquals(blocks * blockSize, j.get("kv_capacity_tokens").asLong());
        System.out.printf("Ultra FP8, TP 4, FP8 KV: %,d weight bytes per GPU, %,d KV tokens%n", weights, blocks * blockSize);
    }
}
