package io.nemotron.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.testing.Reference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class TokenizerConfigTest {
    @TempDir
    Path dir;

    @Test
    void readsTheReferenceLlama31Config() {
        TokenizerConfig c = TokenizerConfig.load(Reference.path("llama-3.1-tokenizer"));
        assertEquals("<|begin_of_text|>", c.bosToken());
        assertEquals("<|eot_id|>", c.eosToken());
        assertTrue(c.chatTemplates().get("default").contains("<|start_header_id|>"));
    }

    /** SOURCE.md: with bos "<|begin_of_text|>" the llama.cpp case renders as its expected output prefixed by it. */
    @Test
    void forModelUsesTheCheckpointsTemplateAndTokens() {
        JsonNode c = Reference.json("llama31-prompt-format/llamacpp_llama3_template_case.json");
        ChatRequest req = ChatRequestParser.parse("{\"messages\":" + c.get("messages") + "}");
        assertEquals("<|begin_of_text|>" + c.get("expected_output").asString(),
                PromptBuilder.forModel(Reference.path("llama-3.1-tokenizer")).build(req));
    }

    @Test
    void namedTemplatesAndTokenObjects() throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
                 "chat_template": [{"name": "default", "template": "{{ bos_token }}D{{ eos_token }}"},
                                   {"name": "tool_use", "template": "{{ bos_token }}T{{ tools|length }}"}]}""");
        TokenizerConfig config = TokenizerConfig.load(dir);
        assertEquals("<s>", config.bosToken());
        assertEquals(Map.of("default", "{{ bos_token }}D{{ eos_token }}", "tool_use", "{{ bos_token }}T{{ tools|length }}"),
                config.chatTemplates());
        PromptBuilder builder = PromptBuilder.forModel(dir);
        ChatMessage user = ChatMessage.of(Role.USER, "x");
        assertEquals("<s>D</s>", builder.build(ChatRequest.of(List.of(user))));
        assertEquals("<s>T1", builder.build(new ChatRequest(List.of(user), List.of(Map.of("name", "f")), null, List.of(), null, null)));
    }

    @Test
    void chatTemplateJinjaFileWins() throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"json\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "file");
        assertEquals("file", PromptBuilder.forModel(dir).build(ChatRequest.of(List.of(ChatMessage.of(Role.USER, "x")))));
    }

    @Test
    void nemotronNasCheckpointWithoutTemplateGetsTheBuiltinNemotronFormat() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"DeciLMForCausalLM\"], \"model_type\": \"nemotron-nas\"}");
        JsonNode on = caseNamed("no system message: default reasoning on");
        ChatRequest req = ChatRequestParser.parse("{\"messages\":" + on.get("messages") + "}");
        assertEquals(on.get("expected_prompt").asString(), PromptBuilder.forModel(dir).build(req));
    }

    @Test
    void plainLlamaCheckpointWithoutTemplateWritesNoSystemTurn() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"]}");
        ChatRequest req = ChatRequest.of(List.of(ChatMessage.of(Role.USER, " Hi ")));
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", PromptBuilder.forModel(dir).build(req));
    }

    @Test
    void errorsNameTheFile() throws IOException {
        assertTrue(assertThrows(PromptException.class, () -> TokenizerConfig.load(dir.resolve("nope")))
                .getMessage().startsWith("model folder not found"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": 3}");
        String message = assertThrows(PromptException.class, () -> TokenizerConfig.load(dir)).getMessage();
        assertTrue(message.contains("tokenizer_config.json: chat_template must be a string"), message);
    }

    private static JsonNode caseNamed(String description) {
        for (JsonNode c : Reference.json("chat-template/cases.json").get("cases")) {
            if (c.get("description").asString().equals(description)) {
                return c;
            }
        }
        throw new AssertionError("no case " + description);
    }
}
