package io.nemotron.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChatRequestParserTest {

    private static String error(String json) {
        return assertThrows(ChatRequestException.class, () -> ChatRequestParser.parse(json)).getMessage();
    }

    @Test
    void parsesEveryField() {
        ChatRequest r = ChatRequestParser.parse("""
                {"messages": [
                   {"role": "system", "content": "S"},
                   {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                   {"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"n": 2}}}]},
                   {"role": "tool", "content": "42", "tool_call_id": "c1", "name": "f"}],
                 "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
                 "thinking": "off",
                 "documents": [{"id": 7, "title": "T", "text": "body"}],
                 "rag": {"context_budget_tokens": 512},
                 "add_generation_prompt": false}""");
        assertEquals(4, r.messages().size());
        assertEquals(ChatMessage.of(Role.SYSTEM, "S"), r.messages().get(0));
        assertEquals("ab", r.messages().get(1).content());
        assertEquals("", r.messages().get(2).content());
        assertEquals(Map.of("type", "function", "function", Map.of("name", "f", "arguments", Map.of("n", 2L))),
                r.messages().get(2).toolCalls().get(0));
        assertEquals(new ChatMessage(Role.TOOL, "42", List.of(), "f", "c1"), r.messages().get(3));
        assertEquals("f", ((Map<?, ?>) r.tools().get(0).get("function")).get("name"));
        assertEquals(Thinking.OFF, r.thinking());
        assertEquals(List.of(new ChatDocument("7", "T", "body")), r.documents());
        assertEquals(512, r.ragContextBudget());
        assertEquals(false, r.addsGenerationPrompt());
    }

    @Test
    void documentScoreIsOptionalAndMustBeANumber() {
        ChatRequest r = ChatRequestParser.parse("""
                {"messages": [{"role": "user", "content": "q"}], "documents": [{"id": "a", "text": "t", "score": 0.75}]}""");
        assertEquals(List.of(new ChatDocument("a", null, "t", 0.75)), r.documents());
        assertEquals("documents[0].score: must be a number", error("""
                {"messages": [{"role": "user", "content": "q"}], "documents": [{"text": "t", "score": "high"}]}"""));
    }

    @Test
    void optionalFieldsDefault() {
        ChatRequest r = ChatRequestParser.parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertNull(r.thinking());
        assertEquals(List.of(), r.tools());
        assertEquals(List.of(), r.documents());
        assertNull(r.ragContextBudget());
        assertEquals(true, r.addsGenerationPrompt());
    }

    @Test
    void errorsNameTheField() {
        String user = "{\"role\":\"user\",\"content\":\"x\"}";
        assertEquals("messages[2].role: unknown role 'foo' (expected system, user, assistant or tool)",
                error("{\"messages\":[" + user + "," + user + ",{\"role\":\"foo\",\"content\":\"x\"}]}"));
        assertEquals("messages: required", error("{}"));
        assertEquals("messages: must be a non-empty array", error("{\"messages\":[]}"));
        assertEquals("messages[0].content: required", error("{\"messages\":[{\"role\":\"user\"}]}"));
        assertEquals("messages[0].role: required string (system, user, assistant or tool)", error("{\"messages\":[{\"content\":\"x\"}]}"));
        assertEquals("thinking: expected \"on\" or \"off\", got \"maybe\"", error("{\"messages\":[" + user + "],\"thinking\":\"maybe\"}"));
        assertEquals("tools[0].function.name: required non-empty string",
                error("{\"messages\":[" + user + "],\"tools\":[{\"type\":\"function\",\"function\":{}}]}"));
        assertEquals("messages[0].tool_calls: only assistant messages carry tool calls",
                error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[]}]}"));
        assertEquals("messages[0].tool_calls[0].arguments: must be an object or a JSON string",
                error("{\"messages\":[{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"name\":\"f\",\"arguments\":3}]}]}"));
        assertEquals("messages[0].content[0]: only {\"type\": \"text\", \"text\": ...} parts are supported",
                error("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}"));
        assertEquals("documents[0].text: required string", error("{\"messages\":[" + user + "],\"documents\":[{\"id\":\"a\"}]}"));
        assertEquals("rag.context_budget_tokens: must be a positive integer, got 0",
                error("{\"messages\":[" + user + "],\"rag\":{\"context_budget_tokens\":0}}"));
        assertEquals("request: must be a JSON object", error("[]"));
    }

    @Test
    void unknownFieldsAreRefusedNotIgnored() {
        assertEquals("thinkng: unknown field (expected one of [add_generation_prompt, documents, messages, rag, thinking, tools])",
                error("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"thinkng\":\"off\"}"));
        assertEquals("messages[0].contents: unknown field (expected one of [content, name, role, tool_call_id, tool_calls])",
                error("{\"messages\":[{\"role\":\"user\",\"contents\":\"x\"}]}"));
    }

    @Test
    void invalidJsonIsReported() {
        String message = error("{\"messages\": [");
        assertEquals(true, message.startsWith("request: not valid JSON"), message);
    }
}
