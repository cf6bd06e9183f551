package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.service.toolcall.BfclCases;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/** {@code ./nemotron tools parse} in-process, on every BFCL case and on bad input. */
class ToolsParseCommandTest {
    @TempDir
    static Path dir;

    static List<BfclCases> cases() {
        return BfclCases.all();
    }

    private static CliRun parse(String stdin, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "tools";
        all[1] = "parse";
        System.arraycopy(args, 0, all, 2, args.length);
        return CliRun.withStdin(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), all);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyBfclCaseThroughTheCommand(BfclCases c) throws IOException {
        Path tools = dir.resolve(c.id() + ".json");
        Files.writeString(tools, BfclCases.MAPPER.writeValueAsString(c.functions()));
        CliRun run = parse(c.modelOutput(), "--tools", tools.toString());
        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = BfclCases.MAPPER.readTree(run.out());
        assertEquals("", json.get("content").asString());
        assertEquals("", json.get("reasoning").asString());
        assertEquals(0, json.get("errors").size(), json.toString());
        JsonNode calls = json.get("tool_calls");
        assertEquals(c.expected().size(), calls.size());
        List<String> validationErrors = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            assertEquals("call_" + i, calls.get(i).get("id").asString());
            assertEquals(c.expected().get(i).name(), calls.get(i).get("name").asString());
            // read back from the printed JSON: an int printed as 4 and a float as 4.0 keep their types
            BfclCases.assertSameJson(c.expected().get(i).arguments(), calls.get(i).get("arguments"), c.id());
            calls.get(i).get("errors").forEach(e -> validationErrors.add(e.asString()));
        }
        assertEquals(BfclCases.SCHEMA_CONTRADICTIONS.getOrDefault(c.id(), List.of()), validationErrors);
    }

    @Test
    void withoutToolsEverythingParsesAndMalformedOutputIsReported() {
        CliRun run = parse("Hi <TOOLCALL>[f(a=1)]</TOOLCALL> <TOOLCALL>[g(</TOOLCALL>");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = BfclCases.MAPPER.readTree(run.out());
        assertEquals("Hi  <TOOLCALL>[g(</TOOLCALL>", json.get("content").asString());
        assertEquals("f", json.get("tool_calls").get(0).get("name").asString());
        assertEquals(1, json.get("tool_calls").get(0).get("arguments").get("a").intValue());
        assertEquals(1, json.get("errors").size());
    }

    @Test
    void aLeadingThinkSectionIsReasoning() {
        CliRun run = parse("<think>\nUse f.\n</think>\n\nOK <TOOLCALL>[f(a=1)]</TOOLCALL>");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = BfclCases.MAPPER.readTree(run.out());
        assertEquals("\nUse f.\n", json.get("reasoning").asString());
        assertEquals("\n\nOK ", json.get("content").asString());
        assertEquals("f", json.get("tool_calls").get(0).get("name").asString());
    }

    @Test
    void openAiShapedToolsFile() throws IOException {
        Path tools = dir.resolve("openai.json");
        Files.writeString(tools, """
                [{"type": "function", "function": {"name": "f", "description": "d",
                  "parameters": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}}]""");
        CliRun run = parse("<TOOLCALL>[{\"name\": \"f\", \"arguments\": {\"a\": 1}}]</TOOLCALL>", "--tools", tools.toString());
        JsonNode call = BfclCases.MAPPER.readTree(run.out()).get("tool_calls").get(0);
        assertEquals("argument 'a': expected string, got integer 1", call.get("errors").get(0).asString());
    }

    @Test
    void badToolsFileIsAnErrorNamingTheFile() throws IOException {
        CliRun missing = parse("", "--tools", dir.resolve("absent.json").toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("--tools") && missing.err().contains("absent.json"), missing.err());
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "[{\"description\": \"no name\"}]");
        CliRun noName = parse("", "--tools", broken.toString());
        assertEquals(1, noName.exitCode());
        assertTrue(noName.err().contains("tools[0].name"), noName.err());
        Files.writeString(broken, "[{");
        assertEquals(1, parse("", "--tools", broken.toString()).exitCode());
    }
}
