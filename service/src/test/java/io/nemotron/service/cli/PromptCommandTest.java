package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** {@code nemotron prompt} against reference/chat-template/cases.json, run in-process as the launcher would. */
class PromptCommandTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path tmp;

    @TestFactory
    Stream<DynamicTest> everyCaseThroughTheCli() throws IOException {
        JsonNode cases = JSON.readTree(Files.readString(CliRun.reference("chat-template/cases.json"))).get("cases");
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (JsonNode c : cases) {
            Path requestFile = tmp.resolve("case" + i++ + ".json");
            tests.add(DynamicTest.dynamicTest(c.get("description").asString(), () -> {
                ObjectNode request = JSON.createObjectNode();
                request.set("messages", c.get("messages"));
                if (!c.get("tools").isNull()) {
                    request.set("tools", c.get("tools"));
                }
                request.put("add_generation_prompt", c.get("add_generation_prompt").booleanValue());
                Files.writeString(requestFile, JSON.writeValueAsString(request));
                Path template = CliRun.reference("nemotron").resolve(c.get("template").asString());
                CliRun r = CliRun.of("prompt", "--template", template.toString(), "--chat-request", requestFile.toString());
                assertEquals("", r.err());
                assertEquals(0, r.exitCode());
                assertEquals(c.get("expected_prompt").asString(), r.out());
            }));
        }
        return tests.stream();
    }

    /** SOURCE.md of llama31-prompt-format: with bos "<|begin_of_text|>" the case renders as its output prefixed by it. */
    @Test
    void modelFolderUsesItsOwnTemplate() throws IOException {
        JsonNode c = JSON.readTree(Files.readString(CliRun.reference("llama31-prompt-format/llamacpp_llama3_template_case.json")));
        Path requestFile = tmp.resolve("req.json");
        Files.writeString(requestFile, "{\"messages\": " + c.get("messages") + "}");
        CliRun r = CliRun.of("prompt", "--model", CliRun.reference("llama-3.1-tokenizer").toString(), "--chat-request", requestFile.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("<|begin_of_text|>" + c.get("expected_output").asString(), r.out());
    }

    @Test
    void badRequestNamesFileAndField() throws IOException {
        Path requestFile = tmp.resolve("bad.json");
        Files.writeString(requestFile, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"foo\", \"content\": \"b\"}]}");
        Path template = CliRun.reference("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.chat_template.jinja");
        CliRun r = CliRun.of("prompt", "--template", template.toString(), "--chat-request", requestFile.toString());
        assertEquals(1, r.exitCode());
        assertEquals("", r.out());
        assertEquals("error: " + requestFile + ": messages[1].role: unknown role 'foo' (expected system, user, assistant or tool)",
                r.err().strip());
    }

    @Test
    void documentsWithATemplateOnlyAreRefusedClearly() throws IOException {
        Path requestFile = tmp.resolve("rag.json");
        Files.writeString(requestFile, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"documents\": [{\"text\": \"d\"}]}");
        Path template = CliRun.reference("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.chat_template.jinja");
        CliRun r = CliRun.of("prompt", "--template", template.toString(), "--chat-request", requestFile.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("documents need --model"), r.err());
    }

    @Test
    void missingFilesAndFlagsAreErrors() {
        CliRun r = CliRun.of("prompt", "--template", tmp.resolve("none.jinja").toString(), "--chat-request", tmp.resolve("none.json").toString());
        assertEquals(1, r.exitCode());
        assertEquals("error: chat request file not found: " + tmp.resolve("none.json"), r.err().strip());
        CliRun both = CliRun.of("prompt", "--template", "a", "--model", "b", "--chat-request", "c");
        assertTrue(both.exitCode() != 0);
        assertTrue(both.err().contains("mutually exclusive"), both.err());
    }
}
