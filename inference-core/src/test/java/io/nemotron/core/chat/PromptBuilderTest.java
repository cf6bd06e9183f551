package io.nemotron.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.testing.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Prompt building checked against reference/chat-template/cases.json and prompts derived from those cases. */
class PromptBuilderTest {
    private static final JsonNode CASES = Reference.json("chat-template/cases.json");
    private static final String ULTRA = Reference.readString("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.chat_template.jinja");
    private static final String SUPER_V15 = Reference.readString("nemotron/Llama-3_3-Nemotron-Super-49B-v1_5.chat_template.jinja");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String SYSTEM_HEADER = "<|start_header_id|>system<|end_header_id|>\n\n";

    private static JsonNode caseNamed(String description) {
        for (JsonNode c : CASES.get("cases")) {
            if (c.get("description").asString().equals(description)) {
                return c;
            }
        }
        throw new AssertionError("no case " + description);
    }

    /** The case as a chat request: its messages and tools (the cases' add_generation_prompt is always true). */
    private static ChatRequest request(JsonNode c) {
        ObjectNode json = JSON.createObjectNode();
        json.set("messages", c.get("messages"));
        if (!c.get("tools").isNull()) {
            json.set("tools", c.get("tools"));
        }
        json.put("add_generation_prompt", c.get("add_generation_prompt").booleanValue());
        return ChatRequestParser.parse(json);
    }

    private static String expected(JsonNode c) {
        return c.get("expected_prompt").asString();
    }

    @TestFactory
    Stream<DynamicTest> everyCaseWithItsOwnTemplate() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : CASES.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("description").asString(), () -> {
                PromptBuilder builder = PromptBuilder.forTemplate(Reference.readString("nemotron/" + c.get("template").asString()));
                assertEquals(expected(c), builder.build(request(c)));
            }));
        }
        return tests.stream();
    }

    /**
     * The built-in Llama-Nemotron format reproduces Ultra's template, and its tool folding reproduces
     * Super-v1.5's tools convention, so every case renders identically through it.
     */
    @TestFactory
    Stream<DynamicTest> everyCaseWithTheBuiltinNemotronFormat() {
        PromptBuilder builtin = new PromptBuilder(BuiltinLlamaFormat.nemotron("<|begin_of_text|>", "<|eot_id|>"), null);
        return caseStream(builtin);
    }

    /** Ultra's template has no tools branch: folded tools must still give the Llama-Nemotron prompt of the v1.5 cases. */
    @TestFactory
    Stream<DynamicTest> everyCaseWithUltrasTemplate() {
        return caseStream(PromptBuilder.forTemplate(ULTRA));
    }

    private static Stream<DynamicTest> caseStream(PromptBuilder builder) {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : CASES.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("description").asString(),
                    () -> assertEquals(expected(c), builder.build(request(c)))));
        }
        return tests.stream();
    }

    @Test
    void thinkingSwitchBecomesTheSystemMessage() {
        // "reasoning off" case: the same conversation with the switch given as a field instead of a system message
        JsonNode off = caseNamed("reasoning off");
        ChatRequest req = ChatRequestParser.parse("{\"messages\":[{\"role\":\"user\",\"content\":\"What is 2+2?\"}],\"thinking\":\"off\"}");
        assertEquals(expected(off), PromptBuilder.forTemplate(ULTRA).build(req));

        JsonNode on = caseNamed("no system message: default reasoning on");
        ChatRequest reqOn = ChatRequestParser.parse("{\"messages\":[{\"role\":\"user\",\"content\":\"Solve x*(sin(x)+2)=0\"}],\"thinking\":\"on\"}");
        assertEquals(expected(on), PromptBuilder.forTemplate(ULTRA).build(reqOn));
    }

    @Test
    void thinkingSwitchGoesFirstAndTheUsersSystemTextFollows() {
        ChatRequest req = ChatRequestParser.parse("{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"Hi\"}],\"thinking\":\"off\"}");
        assertEquals("<|begin_of_text|>" + SYSTEM_HEADER + "detailed thinking off\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                PromptBuilder.forTemplate(ULTRA).build(req));
    }

    @Test
    void slashFlagTemplatesGetNoThink() {
        ChatRequest req = ChatRequestParser.parse("{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"Hi\"}],\"thinking\":\"off\"}");
        // v1.5 removes the flag from the system text and opens the answer with an empty think block
        assertEquals("<|begin_of_text|>" + SYSTEM_HEADER + "Be brief.\n\n<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
                + "<think>\n\n</think>\n\n", PromptBuilder.forTemplate(SUPER_V15).build(req));
    }

    @Test
    void toolsWithoutASystemMessageKeepUltrasDefaultReasoning() {
        JsonNode c = caseNamed("tools offered");
        ArrayNode withoutSystem = (ArrayNode) c.get("messages").deepCopy();
        withoutSystem.remove(0);
        ObjectNode json = JSON.createObjectNode();
        json.set("messages", withoutSystem);
        json.set("tools", c.get("tools"));
        String expected = expected(c).replace(SYSTEM_HEADER, SYSTEM_HEADER + "detailed thinking on\n\n");
        assertEquals(expected, PromptBuilder.forTemplate(ULTRA).build(ChatRequestParser.parse(json)));
    }

    @Test
    void consecutiveToolResultsMergeLikeSuperV15Does() {
        String json = "{\"messages\":[{\"role\":\"system\",\"content\":\"\"},{\"role\":\"user\",\"content\":\"Weather?\"},"
                + "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"name\":\"a\",\"arguments\":{\"x\":1}},"
                + "{\"type\":\"function\",\"function\":{\"name\":\"b\",\"arguments\":\"{\\\"y\\\": 2}\"}}]},"
                + "{\"role\":\"tool\",\"content\":\"1\"},{\"role\":\"tool\",\"content\":\"2\"},"
                + "{\"role\":\"assistant\",\"content\":\"<think>so</think>\\n Done.\"},{\"role\":\"user\",\"content\":\"Thanks\"}],"
                + "\"tools\":[{\"name\":\"a\"},{\"type\":\"function\",\"function\":{\"name\":\"b\"}}]}";
        ChatRequest req = ChatRequestParser.parse(json);
        // independent renderings: v1.5's own Jinja branches versus our folding under Ultra's template
        String viaV15 = PromptBuilder.forTemplate(SUPER_V15).build(req);
        String viaUltra = PromptBuilder.forTemplate(ULTRA).build(req);
        assertEquals(viaV15, viaUltra);
        assertTrue(viaUltra.contains("<|start_header_id|>assistant<|end_header_id|>\n\n<TOOLCALL>[{\"name\": \"a\", "
                + "\"arguments\": {\"x\": 1}}, {\"name\": \"b\", \"arguments\": {\"y\": 2}}]</TOOLCALL><|eot_id|>"
                + "<|start_header_id|>tool<|end_header_id|>\n\n<TOOL_RESPONSE>[1, 2]</TOOL_RESPONSE><|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nDone.<|eot_id|>"), viaUltra);
    }

    @Test
    void reasoningIsStrippedWhenTheTemplateKeepsIt() {
        String llama31 = Reference.json("llama-3.1-tokenizer/tokenizer_config.json").get("chat_template").asString();
        ChatRequest req = ChatRequestParser.parse("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},"
                + "{\"role\":\"assistant\",\"content\":\"<think>\\nplan\\n</think>\\n\\nHello!\"},{\"role\":\"user\",\"content\":\"Bye\"}]}");
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                PromptBuilder.forTemplate(llama31).build(req));
    }

    @Test
    void documentsMustBeFoldedByTheChatPreparationBeforeRendering() {
        ChatRequest req = ChatRequestParser.parse("{\"messages\":[{\"role\":\"user\",\"content\":\"Q\"}],"
                + "\"documents\":[{\"id\":\"d1\",\"title\":\"T\",\"text\":\"body\"}]}");
        ChatRequestException e = assertThrows(ChatRequestException.class, () -> PromptBuilder.forTemplate(ULTRA).build(req));
        // the builder renders; the service's ChatPreparer runs the RAG assembler first (silently dropping would be wrong)
        assertTrue(e.getMessage().startsWith("documents: must be folded into the conversation"), e.getMessage());
    }

    @Test
    void lastAssistantMessageMeansNoGenerationPrompt() {
        ChatRequest req = ChatRequest.of(List.of(ChatMessage.of(Role.USER, "Hi"), ChatMessage.of(Role.ASSISTANT, "Hel")));
        assertEquals("<|begin_of_text|>" + SYSTEM_HEADER + "detailed thinking on<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
                + "Hel<|eot_id|>", PromptBuilder.forTemplate(ULTRA).build(req));
        assertTrue(new ChatRequest(req.messages(), List.of(), null, List.of(), null, true).addsGenerationPrompt());
    }

    @Test
    void toolsPassThroughToTemplatesWithAToolsBranch() {
        Map<String, Object> tool = Map.of("name", "f");
        ChatRequest req = new ChatRequest(List.of(ChatMessage.of(Role.USER, "x")), List.of(tool), null, List.of(), null, null);
        String prompt = PromptBuilder.forTemplate(SUPER_V15).build(req);
        assertTrue(prompt.startsWith("<|begin_of_text|>" + SYSTEM_HEADER
                + "You can use the following tools to assist the user if required:\n<AVAILABLE_TOOLS>[{\"name\": \"f\"}]</AVAILABLE_TOOLS>"), prompt);
    }
}
