package io.nemotron.service.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.openai.core.ObjectMappers;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import io.nemotron.core.chat.ChatMessage;
import io.nemotron.core.chat.Role;
import io.nemotron.core.chat.Thinking;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.tokenizer.Tokenizer;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.grpc.stream.ChatPipelineFactory;
import io.nemotron.service.testing.TestServer;
import io.nemotron.service.toolcall.ToolChoice;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;

/**
 * Tool calls and reasoning in OpenAI's shapes, read back with the official SDK's own model classes: model text goes
 * through the production chat pipeline (the {@code <think>} splitter, then the tool-call parser) into the collected
 * and the streamed response. (The fake engine cannot write a tool call here: stories260K's 512-token context is too
 * short for a prompt that renders tools.)
 */
class OpenAiChatShapesTest {
    private static final List<String> TOOL_CALL_OUTPUT = List.of("Let me check. <TOOL", "CALL>[get_weather(city=",
            "\"Paris\")]</TOOLCALL>");
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.loopback();
        await().atMost(Duration.ofSeconds(20)).until(() -> server.context.getBean(ModelHost.class).loaded().isDone());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Tokenizer tokenizer() {
        return server.context.getBean(ModelHost.class).ready().tokenizer();
    }

    /** A request with the get_weather tool, as the templates take tools. */
    private static io.nemotron.core.chat.ChatRequest withWeatherTool() {
        Map<String, Object> parameters = Map.of("type", "object", "properties",
                Map.of("city", Map.of("type", "string")), "required", List.of("city"));
        Map<String, Object> tool = Map.of("type", "function", "function",
                Map.of("name", "get_weather", "description", "Weather of a city", "parameters", parameters));
        return new io.nemotron.core.chat.ChatRequest(List.of(new ChatMessage(Role.USER, "Weather in Paris?", List.of(),
                null, null)), List.of(tool), Thinking.OFF, List.of(), null, null);
    }

    /** Feeds {@code pieces} as one choice's model output through the production pipeline, then finishes it. */
    private static void generate(ChoiceSink sink, ToolChoice choice, boolean thinkingOn, List<String> pieces,
                                 FinishReason reason) {
        ChatPipelineFactory pipelines = server.context.getBean(ChatPipelineFactory.class);
        ChoiceListener listener = new ChoiceListener(0, sink, out -> pipelines.create(withWeatherTool(), thinkingOn,
                choice, out));
        for (String piece : pieces) {
            listener.onToken(1, piece, null);
        }
        listener.onFinished(reason, "", new RequestStats(7, pieces.size(), 0, 0, 0, 0));
    }

    private static String collected(CollectedChoices response) {
        return (String) ((ResponseEntity<?>) response.result.getResult()).getBody();
    }

    private static CollectedChoices collector() {
        return new CollectedChoices(OpenAiShapes.Api.CHAT, "chatcmpl-t", "m", 1, tokenizer(), Duration.ofSeconds(1),
                false, null, null);
    }

    @Test
    void aParsedCallIsAToolCallWithJsonArgumentsAndFinishReasonToolCalls() throws Exception {
        CollectedChoices response = collector();
        generate(response, ToolChoice.AUTO, false, TOOL_CALL_OUTPUT, FinishReason.STOP);

        ChatCompletion c = ObjectMappers.jsonMapper().readValue(collected(response), ChatCompletion.class);
        ChatCompletion.Choice choice = c.choices().getFirst();
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        List<ChatCompletionMessageToolCall> calls = choice.message().toolCalls().orElseThrow();
        assertThat(calls).hasSize(1);
        var function = calls.getFirst().asFunction();
        assertThat(function.id()).isEqualTo("call_0");
        assertThat(function.function().name()).isEqualTo("get_weather");
        assertThat(JsonFields.MAPPER.readTree(function.function().arguments()))
                .isEqualTo(JsonFields.MAPPER.readTree("{\"city\": \"Paris\"}"));
        assertThat(choice.message().content()).contains("Let me check. ");
    }

    @Test
    void aStreamedCallArrivesAsAToolCallDeltaAndTheStreamEndsWithDone() throws Exception {
        List<String> events = new ArrayList<>();
        StreamedChoices response = new StreamedChoices(OpenAiShapes.Api.CHAT, "chatcmpl-t", "m", 1, tokenizer(),
                Duration.ofSeconds(1), true, false, null, new ListEvents(events));
        generate(response, ToolChoice.AUTO, false, TOOL_CALL_OUTPUT, FinishReason.STOP);

        assertThat(events).allSatisfy(e -> assertThat(e).startsWith("data: ").endsWith("\n\n"));
        assertThat(events.getLast()).isEqualTo("data: [DONE]\n\n");
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        for (String e : events.subList(0, events.size() - 1)) {
            chunks.add(ObjectMappers.jsonMapper().readValue(e.substring("data: ".length()).strip(),
                    ChatCompletionChunk.class));
        }
        List<ChatCompletionChunk.Choice> choices = chunks.stream().flatMap(ch -> ch.choices().stream()).toList();
        List<ChatCompletionChunk.Choice.Delta.ToolCall> calls = choices.stream()
                .flatMap(ch -> ch.delta().toolCalls().orElse(List.of()).stream()).toList();
        assertThat(calls).hasSize(1);
        assertThat(calls.getFirst().index()).isZero();
        assertThat(calls.getFirst().id()).contains("call_0");
        assertThat(calls.getFirst().function().orElseThrow().name()).contains("get_weather");
        assertThat(JsonFields.MAPPER.readTree(calls.getFirst().function().orElseThrow().arguments().orElseThrow()))
                .isEqualTo(JsonFields.MAPPER.readTree("{\"city\": \"Paris\"}"));
        assertThat(choices.getFirst().delta().role()).contains(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT);
        assertThat(choices.getLast().finishReason()).contains(ChatCompletionChunk.Choice.FinishReason.TOOL_CALLS);
        assertThat(chunks.getLast().usage().orElseThrow().completionTokens()).isEqualTo(TOOL_CALL_OUTPUT.size());
    }

    @Test
    void toolChoiceNoneLeavesTheMarkupAsContent() throws Exception {
        CollectedChoices response = collector();
        generate(response, ToolChoice.NONE, false, TOOL_CALL_OUTPUT, FinishReason.STOP);

        ChatCompletion c = ObjectMappers.jsonMapper().readValue(collected(response), ChatCompletion.class);
        assertThat(c.choices().getFirst().message().toolCalls()).isEmpty();
        assertThat(c.choices().getFirst().message().content()).contains(String.join("", TOOL_CALL_OUTPUT));
        assertThat(c.choices().getFirst().finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    }

    /** The think section of the output is reasoning_content, in one piece and as deltas; what follows is the answer. */
    @Test
    void reasoningIsItsOwnFieldBesideTheAnswer() throws Exception {
        List<String> output = List.of("<thi", "nk>The user greets", ".</th", "ink>Hello", "!");
        CollectedChoices response = collector();
        generate(response, ToolChoice.NONE, true, output, FinishReason.STOP);

        JsonNode body = JsonFields.MAPPER.readTree(collected(response));
        JsonNode message = body.get("choices").get(0).get("message");
        assertThat(message.get("reasoning_content").asString()).isEqualTo("The user greets.");
        assertThat(message.get("content").asString()).isEqualTo("Hello!");
        assertThat(body.get("choices").get(0).get("finish_reason").asString()).isEqualTo("stop");
        assertThat(body.get("usage").get("total_tokens").asInt()).isEqualTo(7 + output.size());

        List<String> events = new ArrayList<>();
        generate(new StreamedChoices(OpenAiShapes.Api.CHAT, "chatcmpl-t", "m", 1, tokenizer(), Duration.ofSeconds(1),
                false, false, null, new ListEvents(events)), ToolChoice.NONE, true, output, FinishReason.STOP);
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode delta = JsonFields.MAPPER.readTree(e.substring("data: ".length())).get("choices").get(0)
                    .get("delta");
            if (delta.has("reasoning_content")) {
                reasoning.append(delta.get("reasoning_content").asString());
            }
            if (delta.has("content")) {
                content.append(delta.get("content").asString());
            }
        }
        assertThat(reasoning.toString()).isEqualTo("The user greets.");
        assertThat(content.toString()).isEqualTo("Hello!");
    }

    @Test
    void aClientGoneMidStreamStopsWritingAndCancels() {
        List<String> events = new ArrayList<>();
        ListEvents stream = new ListEvents(events);
        StreamedChoices response = new StreamedChoices(OpenAiShapes.Api.CHAT, "chatcmpl-t", "m", 1, tokenizer(),
                Duration.ofSeconds(1), false, false, null, stream);
        var cancelled = new java.util.concurrent.atomic.AtomicBoolean();
        response.bind(new io.nemotron.core.engine.RequestHandle() {
            @Override
            public String requestId() {
                return "r";
            }

            @Override
            public void cancel() {
                cancelled.set(true);
            }
        });
        response.content(0, "Hello", List.of());
        stream.gone = true;
        response.content(0, " world", List.of());
        assertThat(cancelled).isTrue();
        response.content(0, "!", List.of());
        assertThat(events).hasSize(1);
    }

    /** Events into a list; {@code gone} makes the next send fail as a closed connection does. */
    static final class ListEvents implements EventStream {
        final List<String> events;
        volatile boolean gone;

        ListEvents(List<String> events) {
            this.events = events;
        }

        @Override
        public void send(String event) throws IOException {
            if (gone) {
                throw new IOException("Broken pipe");
            }
            events.add(event);
        }

        @Override
        public void complete() {
        }

        @Override
        public void onGone(Runnable action) {
        }
    }
}
