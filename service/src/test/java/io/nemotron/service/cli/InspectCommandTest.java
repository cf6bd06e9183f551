package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
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
}
