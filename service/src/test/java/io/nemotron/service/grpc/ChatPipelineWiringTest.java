package io.nemotron.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.nemotron.core.chat.ChatMessage;
import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.Role;
import io.nemotron.service.grpc.stream.BufferedChatOutput;
import io.nemotron.service.grpc.stream.ChatTextPipeline;
import io.nemotron.service.toolcall.ToolCallOutcomes;
import io.nemotron.service.toolcall.ToolChoice;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Chat RPC's text pipeline as the service wires it (reasoning splitter, then the tool-call parser), fed one
 * model output split at every position: reasoning, content and calls come out as written by hand here.
 */
class ChatPipelineWiringTest {
    private static final String OUTPUT = "<think>\nNeed the weather.\n</think>\n\nChecking. "
            + "<TOOLCALL>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]</TOOLCALL>";

    private static ChatRequest request() {
        Map<String, Object> tool = Map.of("name", "get_weather", "description", "Weather of a city",
                "parameters", Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string")),
                        "required", List.of("city")));
        return new ChatRequest(List.of(new ChatMessage(Role.USER, "Weather in Paris?", List.of(), null, null)),
                List.of(tool), null, List.of(), null, null);
    }

    @Test
    void reasoningThenContentThenOneValidatedCallAtEverySplit() {
        for (int i = 0; i <= OUTPUT.length(); i++) {
            BufferedChatOutput r = new BufferedChatOutput();
            ChatTextPipeline p = new GrpcConfiguration().chatPipelineFactory(ToolCallOutcomes.NONE).create(request(), true,
                    ToolChoice.AUTO, r);
            p.accept(OUTPUT.substring(0, i));
            p.accept(OUTPUT.substring(i));
            assertThat(p.finish()).as("tool calls were emitted").isTrue();
            assertThat(r.reasoning()).isEqualTo("\nNeed the weather.\n");
            assertThat(r.content()).isEqualTo("\n\nChecking. ");
            assertThat(r.toolCalls).hasSize(1);
            assertThat(r.toolCalls.getFirst().getCall().getName()).isEqualTo("get_weather");
            assertThat(r.toolCalls.getFirst().getCall().getArguments().getFieldsOrThrow("city").getStringValue())
                    .isEqualTo("Paris");
            assertThat(r.toolCalls.getFirst().getError()).isEmpty();
        }
    }

    @Test
    void toolChoiceNoneKeepsMarkupAsContent() {
        BufferedChatOutput r = new BufferedChatOutput();
        ChatTextPipeline p = new GrpcConfiguration().chatPipelineFactory(ToolCallOutcomes.NONE)
                .create(request(), false, ToolChoice.NONE, r);
        p.accept("<TOOLCALL>[get_weather(city=\"Paris\")]</TOOLCALL>");
        assertThat(p.finish()).isFalse();
        assertThat(r.content()).isEqualTo("<TOOLCALL>[get_weather(city=\"Paris\")]</TOOLCALL>");
        assertThat(r.toolCalls).isEmpty();
    }
}
