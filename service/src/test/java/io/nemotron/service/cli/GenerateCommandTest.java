package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** `generate` against the references (must-show 2 and 3), and its bad-input errors. */
class GenerateCommandTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static int[] ints(JsonNode a) {
        return IntStream.range(0, a.size()).map(i -> a.get(i).asInt()).toArray();
    }

    private static String csv(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private static JsonNode read(String relative) throws Exception {
        return JSON.readTree(Files.readString(CliRun.reference(relative)));
    }

    @Test
    void stories260kReproducesEveryExpectedCaseTokenForToken() throws Exception {
        String model = CliRun.reference("stories260k/hf").toString();
        for (JsonNode c : read("stories260k/expected.json").get("cases")) {
            int[] expected = ints(c.get("generated_ids"));
            CliRun run = CliRun.of("generate", "--model", model, "--prompt-ids", csv(ints(c.get("prompt_ids"))),
                    "--max-tokens", Integer.toString(expected.length), "--temperature", "0", "--ignore-eos",
                    "--output", "json");
            assertEquals(0, run.exitCode(), run.err());
            JsonNode out = JSON.readTree(run.out());
            assertArrayEquals(expected, ints(out.get("output_ids")), c.get("name").asString());
            assertArrayEquals(ints(c.get("prompt_ids")), ints(out.get("prompt_ids")));
            assertEquals("length", out.get("finish_reason").asString());
            // text = decode(generated) with the HF decoder; the reference's text decodes prompt + generated and
            // the prompt is BOS alone or "Once upon a time", so the generated text is its tail
            String refText = c.get("text").asString();
            assertTrue(refText.endsWith(out.get("text").asString().stripLeading()),
                    "text " + out.get("text") + " is not the tail of " + refText);
        }
    }

    @Test
    void theCudaBackendWithoutAUsableGpuIsOneErrorLineSayingWhy() {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                io.nemotron.core.backend.cuda.CudaDevice.unavailableReason().isPresent(), "this machine has a GPU");
        CliRun run = CliRun.of("generate", "--model", CliRun.reference("stories260k/hf").toString(), "--prompt-ids",
                "1,2", "--backend", "cuda");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().startsWith("error: --backend cuda: no usable GPU: "), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        CliRun tp = CliRun.of("generate", "--model", CliRun.reference("stories260k/hf").toString(), "--prompt-ids",
                "1,2", "--backend", "cuda", "--tensor-parallel", "2");
        assertTrue(tp.err().startsWith("error: --backend cuda: no usable GPU: "), tp.err());   // TP on CUDA is allowed
        CliRun other = CliRun.of("generate", "--model", CliRun.reference("stories260k/hf").toString(), "--prompt-ids",
                "1,2", "--backend", "tpu");
        assertEquals("error: --backend must be cpu or cuda, got 'tpu'", other.err().strip());
    }

    @Test
    void tensorParallelGenerateReproducesTheReferenceAndRefusesASplitThatDoesNotDivide() throws Exception {
        String model = CliRun.reference("nemotron-nas-tiny/nas-tiny-a-bf16").toString();
        JsonNode c = read("nemotron-nas-tiny/nas-tiny-a-bf16/expected.json").get("cases").get(0);
        int[] expected = ints(c.get("greedy_output_ids"));
        CliRun run = CliRun.of("generate", "--model", model, "--prompt-ids", csv(ints(c.get("prompt_ids"))),
                "--max-tokens", Integer.toString(expected.length), "--temperature", "0", "--ignore-eos",
                "--tensor-parallel", "4", "--output", "json");
        assertEquals(0, run.exitCode(), run.err());
        assertArrayEquals(expected, ints(JSON.readTree(run.out()).get("output_ids")));

        CliRun bad = CliRun.of("generate", "--model", model, "--prompt-ids", "1,2", "--tensor-parallel", "3");
        assertEquals(1, bad.exitCode());
        assertEquals("error: tensor-parallel size 3 does not divide the 8 attention heads", bad.err().strip());
    }

    @ParameterizedTest
    @ValueSource(strings = {"nemotron-nas-tiny/nas-tiny-a-f32", "nemotron-nas-tiny/nas-tiny-a-bf16"})
    void nemotronNasTinyGreedyIdsMatch(String dir) throws Exception {
        for (JsonNode c : read(dir + "/expected.json").get("cases")) {
            int[] expected = ints(c.get("greedy_output_ids"));
            CliRun run = CliRun.of("generate", "--model", CliRun.reference(dir).toString(), "--prompt-ids",
                    csv(ints(c.get("prompt_ids"))), "--max-tokens", "24", "--temperature", "0", "--ignore-eos",
                    "--output", "json");
            assertEquals(0, run.exitCode(), run.err());
            assertArrayEquals(expected, ints(JSON.readTree(run.out()).get("output_ids")), dir);
        }
    }

    @Test
    void textPromptIsTokenizedWithBosAndStreamsText() {
        CliRun run = CliRun.of("generate", "--model", CliRun.reference("stories260k/hf").toString(),
                "--prompt", "Once upon a time", "--max-tokens", "8", "--output", "json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode out = JSON.readTree(run.out());
        // stories260K tokenizer_cases.json: "Once upon a time" -> [1, 403, 407, 261, 378]
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, ints(out.get("prompt_ids")));
        // expected.json once_upon_a_time_120 begins with 432 ("," ) 383 (" there")
        assertEquals(432, out.get("output_ids").get(0).asInt());
        assertTrue(out.get("text").asString().startsWith(", there"), out.get("text").asString());
    }

    @Test
    void sameSeedSameTokensAtTemperatureOne() {
        String model = CliRun.reference("stories260k/hf").toString();
        String[] args = {"generate", "--model", model, "--prompt-ids", "1", "--max-tokens", "40", "--temperature", "1",
                "--seed", "1234", "--ignore-eos", "--output", "json"};
        CliRun a = CliRun.of(args);
        CliRun b = CliRun.of(args);
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(JSON.readTree(a.out()).get("output_ids"), JSON.readTree(b.out()).get("output_ids"));
    }

    @Test
    void aBadCudaGraphsValueIsAnErrorNamingTheFlag() {
        CliRun run = CliRun.of("generate", "--model", CliRun.reference("stories260k/hf").toString(),
                "--prompt-ids", "1", "--cuda-graphs", "yes please");
        assertEquals(1, run.exitCode());
        assertEquals("error: --cuda-graphs must be on or off, got 'yes please'", run.err().strip());
    }

    @Test
    void negativeTemperatureIsAClearError() {
        CliRun run = CliRun.of("generate", "--model", CliRun.reference("stories260k/hf").toString(),
                "--prompt-ids", "1", "--temperature", "-0.5");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("temperature"), run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    }

    @Test
    void promptLongerThanTheContextIsAClearError() {
        // stories260K's context is 512 positions
        String ids = IntStream.range(0, 600).mapToObj(i -> "5").collect(Collectors.joining(","));
        CliRun run = CliRun.of("generate", "--model", CliRun.reference("stories260k/hf").toString(),
                "--prompt-ids", ids, "--max-tokens", "4");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("600 tokens") && run.err().contains("context length is 512"), run.err());
        assertFalse(run.err().contains("\tat "), run.err());
    }

    @Test
    void maxTokensBeyondTheContextNamesMaxTokens() {
        CliRun run = CliRun.of("generate", "--model", CliRun.reference("stories260k/hf").toString(),
                "--prompt-ids", "1,2,3", "--max-tokens", "600");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("max_tokens 600"), run.err());
    }

    @Test
    void badPromptIdsAndMissingModelAreClearErrors() {
        String model = CliRun.reference("stories260k/hf").toString();
        CliRun notInt = CliRun.of("generate", "--model", model, "--prompt-ids", "1,x");
        assertEquals(1, notInt.exitCode());
        assertTrue(notInt.err().contains("'x' is not an integer"), notInt.err());

        CliRun outside = CliRun.of("generate", "--model", model, "--prompt-ids", "1,9999");
        assertEquals(1, outside.exitCode());
        assertTrue(outside.err().contains("prompt_ids[1] = 9999"), outside.err());

        CliRun missing = CliRun.of("generate", "--model", "/nonexistent/model", "--prompt-ids", "1");
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("/nonexistent/model"), missing.err());
    }

    @Test
    void chatRequestWithDocumentsGoesThroughTheRagAssemblerAsPromptDoes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        // issue 18: this used to fail with a stale "RAG context assembly is not available yet"
        java.nio.file.Path req = tmp.resolve("req.json");
        Files.writeString(req, """
                {"messages":[{"role":"user","content":"What is in the doc?"}],
                 "documents":[{"id":"d1","title":"t","text":"some text"}]}""");
        String model = CliRun.reference("stories260k/hf").toString();
        CliRun run = CliRun.of("generate", "--model", model, "--chat-request", req.toString(), "--max-tokens", "4",
                "--output", "json");
        assertEquals(0, run.exitCode(), run.err());
        tools.jackson.databind.JsonNode ids = tools.jackson.databind.json.JsonMapper.builder().build().readTree(run.out())
                .get("prompt_ids");
        CliRun prompt = CliRun.of("prompt", "--model", model, "--chat-request", req.toString());
        assertEquals(0, prompt.exitCode(), prompt.err());
        assertTrue(prompt.out().contains("some text"), prompt.out());
        try (io.nemotron.core.tokenizer.Tokenizer t = io.nemotron.core.tokenizer.Tokenizer.load(java.nio.file.Path.of(model))) {
            int[] expected = t.encode(prompt.out(), false);
            assertEquals(expected.length, ids.size());
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], ids.get(i).asInt(), "prompt id " + i);
            }
        }
    }

    /** A copy of the F32 tiny checkpoint that a test may damage. */
    private static java.nio.file.Path copyOfTiny(java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path src = CliRun.reference("nemotron-nas-tiny/nas-tiny-a-f32");
        java.nio.file.Path dir = tmp.resolve("tiny");
        Files.createDirectories(dir);
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        return dir;
    }

    private static void assertCleanError(CliRun run, String... fragments) {
        assertEquals(1, run.exitCode(), run.out());
        for (String f : fragments) {
            assertTrue(run.err().contains(f), "stderr should mention '" + f + "': " + run.err());
        }
        assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    }

    @Test
    void truncatedCheckpointNamesTheFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path dir = copyOfTiny(tmp);
        java.nio.file.Path file = dir.resolve("model.safetensors");
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(file) - 1000);
        }
        assertCleanError(CliRun.of("generate", "--model", dir.toString(), "--prompt-ids", "1,2"),
                "model.safetensors", "truncated");
    }

    @Test
    void configMissingHiddenSizeNamesTheKey(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path dir = copyOfTiny(tmp);
        java.nio.file.Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"hidden_size\"", "\"hidden_size_renamed\""));
        assertCleanError(CliRun.of("generate", "--model", dir.toString(), "--prompt-ids", "1,2"), "hidden_size");
    }

    @Test
    void sinkTokensAreRefusedNotIgnored(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path dir = copyOfTiny(tmp);
        java.nio.file.Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\"n_heads_in_group\": 2,",
                "\"n_heads_in_group\": 2, \"num_sink_tokens\": 4,"));
        assertCleanError(CliRun.of("generate", "--model", dir.toString(), "--prompt-ids", "1,2"),
                "block_configs[0].attention.num_sink_tokens");
    }

    @Test
    void configThatDisagreesWithTheWeightsNamesTheTensor(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path dir = copyOfTiny(tmp);
        java.nio.file.Path config = dir.resolve("config.json");
        // block 0 claims 8 kv heads (group 1) but k_proj holds 4: a wrong shape
        Files.writeString(config, Files.readString(config).replaceFirst("\"n_heads_in_group\": 2",
                "\"n_heads_in_group\": 1"));
        assertCleanError(CliRun.of("generate", "--model", dir.toString(), "--prompt-ids", "1,2"),
                "model.layers.0.self_attn.k_proj.weight");
    }
}
