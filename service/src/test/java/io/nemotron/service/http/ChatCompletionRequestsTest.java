package io.nemotron.service.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.Thinking;
import io.nemotron.api.v1.ToolChoice;
import io.nemotron.core.engine.InvalidRequestException;
import org.junit.jupiter.api.Test;

/** OpenAI request bodies onto the API's ChatRequest / GenerateRequest, field by field (hand-written expectations). */
class ChatCompletionRequestsTest {

    private static ChatRequest chat(String fields) {
        return ChatCompletionRequests.parse("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]"
                + (fields.isEmpty() ? "" : ", " + fields) + "}").request();
    }

    @Test
    void samplingFieldsIncludingVllmExtensions() {
        ChatRequest r = chat("\"temperature\": 0.7, \"top_p\": 0.9, \"top_k\": -1, \"min_p\": 0.05, "
                + "\"repetition_penalty\": 1.1, \"presence_penalty\": 0.5, \"frequency_penalty\": 0.25, \"seed\": 42");
        assertThat(r.getSampling().getTemperature()).isEqualTo(0.7f);
        assertThat(r.getSampling().getTopP()).isEqualTo(0.9f);
        assertThat(r.getSampling().getTopK()).isZero(); // vLLM's -1: no top-k
        assertThat(r.getSampling().getMinP()).isEqualTo(0.05f);
        assertThat(r.getSampling().getRepetitionPenalty()).isEqualTo(1.1f);
        assertThat(r.getSampling().getPresencePenalty()).isEqualTo(0.5f);
        assertThat(r.getSampling().getFrequencyPenalty()).isEqualTo(0.25f);
        assertThat(r.getSampling().getSeed()).isEqualTo(42L);
        assertThat(chat("").getSampling().hasTemperature()).isFalse(); // unset: the chat preparation's default
    }

    @Test
    void maxCompletionTokensWinsOverTheDeprecatedMaxTokens() {
        assertThat(chat("\"max_tokens\": 5").getMaxTokens()).isEqualTo(5);
        assertThat(chat("\"max_tokens\": 5, \"max_completion_tokens\": 7").getMaxTokens()).isEqualTo(7);
        assertThat(chat("").hasMaxTokens()).isFalse();
    }

    @Test
    void stopIsAStringOrAList() {
        assertThat(chat("\"stop\": \"END\"").getStopList()).containsExactly("END");
        assertThat(chat("\"stop\": [\"a\", \"b\"]").getStopList()).containsExactly("a", "b");
        assertThatThrownBy(() -> chat("\"stop\": [1]")).hasMessageStartingWith("stop:");
    }

    @Test
    void messagesWithContentPartsToolCallsAndToolResults() {
        ChatRequest r = ChatCompletionRequests.parse("""
                {"messages": [
                  {"role": "developer", "content": "Be brief."},
                  {"role": "user", "content": [{"type": "text", "text": "Weather "}, {"type": "text", "text": "in Paris?"}]},
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "call_0", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\", \\"days\\": 2}"}}]},
                  {"role": "tool", "tool_call_id": "call_0", "content": "21 C"}],
                 "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d",
                    "parameters": {"type": "object"}}}],
                 "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}
                """).request();
        assertThat(r.getMessagesList()).extracting(m -> m.getRole())
                .containsExactly(Role.ROLE_SYSTEM, Role.ROLE_USER, Role.ROLE_ASSISTANT, Role.ROLE_TOOL);
        assertThat(r.getMessages(1).getContent()).isEqualTo("Weather in Paris?");
        assertThat(r.getMessages(2).getContent()).isEmpty();
        assertThat(r.getMessages(2).getToolCalls(0).getId()).isEqualTo("call_0");
        assertThat(r.getMessages(2).getToolCalls(0).getName()).isEqualTo("get_weather");
        assertThat(r.getMessages(2).getToolCalls(0).getArguments().getFieldsOrThrow("city").getStringValue())
                .isEqualTo("Paris");
        assertThat(r.getMessages(2).getToolCalls(0).getArguments().getFieldsOrThrow("days").getNumberValue())
                .isEqualTo(2.0);
        assertThat(r.getMessages(3).getToolCallId()).isEqualTo("call_0");
        assertThat(r.getTools(0).getName()).isEqualTo("get_weather");
        assertThat(r.getTools(0).getParameters().getFieldsOrThrow("type").getStringValue()).isEqualTo("object");
        assertThat(r.getToolChoice().getMode()).isEqualTo(ToolChoice.Mode.NAMED);
        assertThat(r.getToolChoice().getName()).isEqualTo("get_weather");
    }

    @Test
    void argumentsThatAreNotAJsonObjectNameTheirPath() {
        assertThatThrownBy(() -> ChatCompletionRequests.parse("""
                {"messages": [{"role": "assistant", "tool_calls": [{"type": "function",
                  "function": {"name": "f", "arguments": "[1, 2]"}}]}]}
                """)).isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field())
                .isEqualTo("messages[0].tool_calls[0].function.arguments"));
    }

    @Test
    void documentsThinkingAndRagBudgetAsVllmAndOurChatRequestName() {
        ChatRequest r = chat("\"documents\": [{\"title\": \"T\", \"text\": \"body\"}, {\"id\": \"d2\", \"text\": \"x\"}], "
                + "\"chat_template_kwargs\": {\"thinking\": true}, \"rag\": {\"context_budget_tokens\": 300}");
        assertThat(r.getDocuments(0).getId()).isEqualTo("0");
        assertThat(r.getDocuments(0).getTitle()).isEqualTo("T");
        assertThat(r.getDocuments(1).getId()).isEqualTo("d2");
        assertThat(r.getThinking()).isEqualTo(Thinking.THINKING_ON);
        assertThat(r.getRagContextBudgetTokens()).isEqualTo(300);
        assertThat(chat("\"chat_template_kwargs\": {\"thinking\": \"off\"}").getThinking())
                .isEqualTo(Thinking.THINKING_OFF);
    }

    @Test
    void nStreamAndUsageOptions() {
        var p = ChatCompletionRequests.parse("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 3, "
                + "\"stream\": true, \"stream_options\": {\"include_usage\": true}, \"user\": \"u-1\"}");
        assertThat(p.n()).isEqualTo(3);
        assertThat(p.stream()).isTrue();
        assertThat(p.includeUsage()).isTrue();
        assertThatThrownBy(() -> chat("\"n\": 17")).hasMessageStartingWith("n: must be between 1 and 16");
        assertThatThrownBy(() -> chat("\"n\": 1.5")).hasMessageStartingWith("n: must be an integer");
        assertThatThrownBy(() -> chat("\"user\": 5")).hasMessageStartingWith("user: must be a string");
    }

    @Test
    void completionsTakeOnePromptAsTextOrIdsAndDefaultTo16Tokens() {
        var text = CompletionRequests.parse("{\"prompt\": \"Once\"}").request();
        assertThat(text.getText()).isEqualTo("Once");
        assertThat(text.getMaxTokens()).isEqualTo(16);
        var ids = CompletionRequests.parse("{\"prompt\": [1, 2, 3], \"logprobs\": 2, \"max_tokens\": 4}").request();
        assertThat(ids.getTokenIds().getIdsList()).containsExactly(1, 2, 3);
        assertThat(ids.getLogprobs()).isTrue();
        assertThat(ids.getTopLogprobs()).isEqualTo(2);
        assertThat(CompletionRequests.parse("{\"prompt\": [[5, 6]]}").request().getTokenIds().getIdsList())
                .containsExactly(5, 6);
        assertThatThrownBy(() -> CompletionRequests.parse("{\"prompt\": [\"a\", \"b\"]}"))
                .hasMessageStartingWith("prompt[0]:");
        assertThatThrownBy(() -> CompletionRequests.parse("{\"prompt\": \"a\", \"echo\": true}"))
                .hasMessageStartingWith("echo:");
    }
}
