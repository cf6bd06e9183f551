package io.nemotron.service.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.type.TypeReference;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.nemotron.api.v1.ChatFinal;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GenerateResponse;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.Sampling;
import io.nemotron.api.v1.TokenIds;
import io.nemotron.api.v1.TokenLogprob;
import io.nemotron.api.v1.Tool;
import io.nemotron.api.v1.ToolCall;
import io.nemotron.core.engine.EngineSnapshot;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, must-shows 1 and 3: the official OpenAI Java SDK ({@code com.openai:openai-java}) against the real
 * server (real engine, embedded demo model) on a loopback port, and the same requests through gRPC as the oracle
 * for what the engine generates: greedy output ids and usage must be equal whichever way a request came in.
 */
class OpenAiSdkIT {
    private static final String USER = "Once upon a time there was a little robot who";

    @TempDir
    static Path tmp;
    private static TestServer server;
    private static OpenAIClient client;
    private static ManagedChannel channel;
    private static NemotronGrpc.NemotronBlockingStub grpc;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.loopbackRealEngine(Files.createDirectories(tmp.resolve("cache")),
                "--nemotron.model.threads=1");
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.httpPort() + "/v1")
                .apiKey("unused-auth-is-off").maxRetries(0).timeout(Duration.ofMinutes(2)).build();
        channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port, InsecureChannelCredentials.create())
                .build();
        grpc = NemotronGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static ChatCompletionCreateParams.Builder greedy(int maxTokens) {
        return ChatCompletionCreateParams.builder().model("demo").addUserMessage(USER)
                .maxCompletionTokens(maxTokens).temperature(0.0)
                .putAdditionalBodyProperty("return_token_ids", JsonValue.from(true));
    }

    private static ChatRequest.Builder grpcGreedy(int maxTokens) {
        return ChatRequest.newBuilder().addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(USER))
                .setSampling(Sampling.newBuilder().setTemperature(0f)).setMaxTokens(maxTokens).setLogprobs(true);
    }

    /** What the Chat RPC produced: its content, the generated ids (from its logprobs) and its final. */
    record GrpcChat(String content, List<Long> ids, ChatFinal fin) {}

    private static GrpcChat grpcChat(ChatRequest request) {
        StringBuilder content = new StringBuilder();
        List<Long> ids = new ArrayList<>();
        ChatFinal fin = null;
        for (Iterator<ChatResponse> it = grpc.chat(request); it.hasNext(); ) {
            ChatResponse r = it.next();
            for (TokenLogprob lp : r.getLogprobsList()) {
                ids.add((long) lp.getTokenId());
            }
            if (r.hasContent()) {
                content.append(r.getContent().getText());
            }
            if (r.hasFinal()) {
                fin = r.getFinal();
            }
        }
        return new GrpcChat(content.toString(), ids, fin);
    }

    private static List<Long> ids(Map<String, JsonValue> properties, String name) {
        return properties.get(name).convert(new TypeReference<List<Long>>() {});
    }

    private static void assertUsage(CompletionUsage usage, ChatFinal fin) {
        assertThat(usage.promptTokens()).isEqualTo(fin.getUsage().getPromptTokens());
        assertThat(usage.completionTokens()).isEqualTo(fin.getUsage().getCompletionTokens());
        assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
    }

    @Test
    void chatNotStreamedGivesTheGrpcGreedyIdsTextAndUsage() {
        ChatCompletion c = client.chat().completions().create(greedy(12).build());
        GrpcChat oracle = grpcChat(grpcGreedy(12).build());

        assertThat(c.choices()).hasSize(1);
        ChatCompletion.Choice choice = c.choices().getFirst();
        assertThat(ids(choice._additionalProperties(), "token_ids")).isEqualTo(oracle.ids()).hasSize(12);
        assertThat(choice.message().content()).contains(oracle.content());
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
        assertThat(ids(c._additionalProperties(), "prompt_token_ids")).hasSize(oracle.fin().getUsage().getPromptTokens());
        assertUsage(c.usage().orElseThrow(), oracle.fin());
        assertThat(c.id()).startsWith("chatcmpl-");
        assertThat(c.model()).isEqualTo(grpc.getModelInfo(GetModelInfoRequest.getDefaultInstance()).getName());
    }

    @Test
    void chatStreamedGivesTheSameTextInDeltasThenAFinishAndAUsageChunk() {
        GrpcChat oracle = grpcChat(grpcGreedy(12).build());
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(greedy(12)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            stream.stream().forEach(chunks::add);
        }
        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk.Choice> choices = chunks.stream().flatMap(ch -> ch.choices().stream()).toList();
        choices.forEach(ch -> ch.delta().content().ifPresent(text::append));
        assertThat(text.toString()).isEqualTo(oracle.content());
        assertThat(choices.getFirst().delta().role()).contains(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT);
        assertThat(choices.getLast().finishReason()).contains(ChatCompletionChunk.Choice.FinishReason.LENGTH);
        assertThat(choices.subList(0, choices.size() - 1)).allSatisfy(ch -> assertThat(ch.finishReason()).isEmpty());
        // the usage chunk comes last and alone; earlier chunks carry usage null
        ChatCompletionChunk last = chunks.getLast();
        assertThat(last.choices()).isEmpty();
        assertUsage(last.usage().orElseThrow(), oracle.fin());
        assertThat(chunks.subList(0, chunks.size() - 1)).allSatisfy(ch -> assertThat(ch.usage()).isEmpty());
    }

    @Test
    void logprobsAreTheGrpcLogprobsOfTheSameTokensWithTheirTopAlternatives() {
        ChatCompletion c = client.chat().completions().create(greedy(5).logprobs(true).topLogprobs(3).build());
        List<TokenLogprob> oracle = new ArrayList<>();
        grpc.chat(grpcGreedy(5).setTopLogprobs(3).build()).forEachRemaining(r -> oracle.addAll(r.getLogprobsList()));

        var content = c.choices().getFirst().logprobs().orElseThrow().content().orElseThrow();
        assertThat(content).hasSize(oracle.size()).hasSize(5);
        var tokenizer = server.context.getBean(ModelHost.class).ready().tokenizer();
        for (int i = 0; i < content.size(); i++) {
            TokenLogprob expected = oracle.get(i);
            // the JSON carries the engine's float in its shortest exact form: compared as the float it was
            assertThat((float) content.get(i).logprob()).isEqualTo(expected.getLogprob());
            assertThat(content.get(i).token()).isEqualTo(tokenizer.decode(new int[] {expected.getTokenId()}, false));
            assertThat(content.get(i).topLogprobs()).hasSize(3);
            for (int k = 0; k < 3; k++) {
                assertThat((float) content.get(i).topLogprobs().get(k).logprob())
                        .isEqualTo(expected.getTop(k).getLogprob());
            }
            // greedy: the chosen token is the most likely one
            assertThat(content.get(i).topLogprobs().getFirst().logprob()).isEqualTo(content.get(i).logprob());
        }
    }

    @Test
    void twoChoicesEachRunTheRequestAndUsageCountsThePromptOnce() {
        ChatCompletion c = client.chat().completions().create(greedy(6).n(2).build());
        GrpcChat oracle = grpcChat(grpcGreedy(6).build());

        assertThat(c.choices()).hasSize(2);
        assertThat(c.choices().stream().map(ChatCompletion.Choice::index)).containsExactly(0L, 1L);
        // greedy: each choice is the one greedy continuation
        assertThat(c.choices()).allSatisfy(ch -> assertThat(ids(ch._additionalProperties(), "token_ids"))
                .isEqualTo(oracle.ids()));
        CompletionUsage usage = c.usage().orElseThrow();
        assertThat(usage.promptTokens()).isEqualTo(oracle.fin().getUsage().getPromptTokens());
        assertThat(usage.completionTokens()).isEqualTo(2L * oracle.fin().getUsage().getCompletionTokens());
    }

    @Test
    void twoStreamedChoicesEachGetTheirRoleTheirTextAndTheirFinish() {
        GrpcChat oracle = grpcChat(grpcGreedy(6).build());
        List<ChatCompletionChunk.Choice> choices = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(greedy(6).n(2)
                .build())) {
            s.stream().forEach(ch -> choices.addAll(ch.choices()));
        }
        for (long index = 0; index < 2; index++) {
            long i = index;
            List<ChatCompletionChunk.Choice> mine = choices.stream().filter(ch -> ch.index() == i).toList();
            StringBuilder text = new StringBuilder();
            mine.forEach(ch -> ch.delta().content().ifPresent(text::append));
            assertThat(text.toString()).isEqualTo(oracle.content());
            assertThat(mine.stream().filter(ch -> ch.delta().role().isPresent())).hasSize(1);
            assertThat(mine.getLast().finishReason()).contains(ChatCompletionChunk.Choice.FinishReason.LENGTH);
        }
    }

    @Test
    void aToolRoundTripRendersTheCallAndItsResultAsTheChatRpcDoes() {
        Map<String, Object> schema = Map.of("type", "object", "properties",
                Map.of("city", Map.of("type", "string")), "required", List.of("city"));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("demo")
                .addTool(ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder()
                        .name("get_weather").description("Current weather of a city")
                        .parameters(FunctionParameters.builder()
                                .putAllAdditionalProperties(Map.of("type", JsonValue.from("object"),
                                        "properties", JsonValue.from(schema.get("properties")),
                                        "required", JsonValue.from(List.of("city")))).build())
                        .build()).build())
                .addUserMessage("What is the weather in Paris?")
                .addMessage(ChatCompletionAssistantMessageParam.builder()
                        .addToolCall(ChatCompletionMessageFunctionToolCall.builder().id("call_0")
                                .function(ChatCompletionMessageFunctionToolCall.Function.builder()
                                        .name("get_weather").arguments("{\"city\": \"Paris\"}").build())
                                .build())
                        .build())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId("call_0")
                        .content("{\"temperature_c\": 21}").build())
                .maxCompletionTokens(8).temperature(0.0)
                .putAdditionalBodyProperty("return_token_ids", JsonValue.from(true))
                .build();
        ChatCompletion c = client.chat().completions().create(params);

        ChatRequest same = ChatRequest.newBuilder()
                .addTools(Tool.newBuilder().setName("get_weather").setDescription("Current weather of a city")
                        .setParameters(struct(Map.of("type", value("object"), "properties", Value.newBuilder()
                                .setStructValue(struct(Map.of("city", Value.newBuilder().setStructValue(
                                        struct(Map.of("type", value("string")))).build()))).build(),
                                "required", Value.newBuilder().setListValue(com.google.protobuf.ListValue
                                        .newBuilder().addValues(value("city"))).build()))))
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent("What is the weather in Paris?"))
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_ASSISTANT).addToolCalls(ToolCall.newBuilder()
                        .setId("call_0").setName("get_weather").setArguments(struct(Map.of("city", value("Paris"))))))
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId("call_0")
                        .setContent("{\"temperature_c\": 21}"))
                .setSampling(Sampling.newBuilder().setTemperature(0f)).setMaxTokens(8).setLogprobs(true).build();
        GrpcChat oracle = grpcChat(same);
        GrpcChat withoutTheResult = grpcChat(same.toBuilder().removeMessages(2).build());

        assertUsage(c.usage().orElseThrow(), oracle.fin());
        // the tool's result is in the prompt: without it the prompt is shorter
        assertThat(c.usage().orElseThrow().promptTokens())
                .isGreaterThan(withoutTheResult.fin().getUsage().getPromptTokens());
        assertThat(ids(c.choices().getFirst()._additionalProperties(), "token_ids")).isEqualTo(oracle.ids());
    }

    @Test
    void aRepeatedPromptReportsCachedTokens() {
        String longer = "The quick brown fox jumps over the lazy dog. ".repeat(8);
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("demo").addUserMessage(longer)
                .maxCompletionTokens(2).temperature(0.0).build();
        CompletionUsage first = client.chat().completions().create(params).usage().orElseThrow();
        CompletionUsage second = client.chat().completions().create(params).usage().orElseThrow();
        int blockSize = server.context.getBean(ModelHost.class).ready().engine().snapshot().blockSize();

        assertThat(second.promptTokens()).isEqualTo(first.promptTokens()).isGreaterThan(4L * blockSize);
        long cached = second.promptTokensDetails().orElseThrow().cachedTokens().orElseThrow();
        // prefix caching shares whole blocks, and at least the last prompt token is always computed
        assertThat(cached).isPositive().isLessThan(second.promptTokens());
        assertThat(cached % blockSize).isZero();
        assertThat(cached).isGreaterThanOrEqualTo((second.promptTokens() - 1) / blockSize * blockSize - blockSize);
    }

    @Test
    void aClientThatLeavesMidStreamFreesItsKvBlocks() {
        ModelHost host = server.context.getBean(ModelHost.class);
        int total = host.ready().engine().snapshot().totalBlocks();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(
                ChatCompletionCreateParams.builder().model("demo").addUserMessage(USER).maxCompletionTokens(3000)
                        .temperature(0.0).build())) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            for (int i = 0; i < 3; i++) {
                it.next();
            }
            EngineSnapshot during = host.ready().engine().snapshot();
            assertThat(during.running()).isEqualTo(1);
            assertThat(during.freeBlocks()).isLessThan(total);
        } // closing the stream closes the connection mid-generation
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            EngineSnapshot s = host.ready().engine().snapshot();
            assertThat(s.running() + s.waiting()).isZero();
            assertThat(s.freeBlocks()).isEqualTo(total);
        });
    }

    @Test
    void completionsTakeTextOrTokenIdsAsTheGenerateRpcDoes() {
        GenerateRequest.Builder rpc = GenerateRequest.newBuilder().setText(USER).setMaxTokens(6)
                .setSampling(Sampling.newBuilder().setTemperature(0f));
        List<Long> oracle = new ArrayList<>();
        int promptTokens = 0;
        for (Iterator<GenerateResponse> it = grpc.generate(rpc.build()); it.hasNext(); ) {
            GenerateResponse r = it.next();
            r.getDelta().getTokenIdsList().forEach(id -> oracle.add((long) id));
            if (r.hasFinal()) {
                promptTokens = r.getFinal().getUsage().getPromptTokens();
            }
        }
        Completion text = client.completions().create(CompletionCreateParams.builder().model("demo").prompt(USER)
                .maxTokens(6).temperature(0.0).putAdditionalBodyProperty("return_token_ids", JsonValue.from(true))
                .build());
        assertThat(ids(text.choices().getFirst()._additionalProperties(), "token_ids")).isEqualTo(oracle);
        assertThat(text.usage().orElseThrow().promptTokens()).isEqualTo(promptTokens);
        List<Long> promptIds = ids(text._additionalProperties(), "prompt_token_ids");

        Completion byIds = client.completions().create(CompletionCreateParams.builder().model("demo")
                .prompt(CompletionCreateParams.Prompt.ofArrayOfTokens(promptIds)).maxTokens(6).temperature(0.0)
                .putAdditionalBodyProperty("return_token_ids", JsonValue.from(true)).build());
        assertThat(ids(byIds.choices().getFirst()._additionalProperties(), "token_ids")).isEqualTo(oracle);
        assertThat(byIds.choices().getFirst().text()).isEqualTo(text.choices().getFirst().text());

        // the same ids through gRPC's token_ids prompt
        List<Long> viaIds = new ArrayList<>();
        grpc.generate(rpc.clearText().setTokenIds(TokenIds.newBuilder().addAllIds(
                promptIds.stream().map(Long::intValue).toList())).build()).forEachRemaining(r ->
                r.getDelta().getTokenIdsList().forEach(id -> viaIds.add((long) id)));
        assertThat(viaIds).isEqualTo(oracle);
    }

    @Test
    void streamedCompletionsGiveTheSameTextInTextCompletionChunks() {
        CompletionCreateParams params = CompletionCreateParams.builder().model("demo").prompt(USER).maxTokens(6)
                .temperature(0.0).build();
        String whole = client.completions().create(params).choices().getFirst().text();
        StringBuilder streamed = new StringBuilder();
        List<Completion> chunks = new ArrayList<>();
        try (StreamResponse<Completion> s = client.completions().createStreaming(params)) {
            s.stream().forEach(chunks::add);
        }
        chunks.forEach(c -> c.choices().forEach(ch -> streamed.append(ch.text())));
        assertThat(streamed.toString()).isEqualTo(whole);
        assertThat(chunks.getLast().choices().getFirst().finishReason())
                .isEqualTo(com.openai.models.completions.CompletionChoice.FinishReason.LENGTH);
    }

    @Test
    void documentsGoThroughTheRagAssemblerAsInTheChatRpc() {
        List<Map<String, Object>> documents = List.of(
                Map.of("id", "robots", "title", "Robots", "text", "The little robot liked to paint the sky."),
                Map.of("id", "fish", "title", "Fish", "text", "A fish swam in the quiet blue lake."));
        ChatCompletion c = client.chat().completions().create(greedy(4)
                .putAdditionalBodyProperty("documents", JsonValue.from(documents)).build());
        ChatRequest.Builder same = grpcGreedy(4);
        for (Map<String, Object> d : documents) {
            same.addDocuments(io.nemotron.api.v1.Document.newBuilder().setId((String) d.get("id"))
                    .setTitle((String) d.get("title")).setText((String) d.get("text")));
        }
        GrpcChat oracle = grpcChat(same.build());

        assertUsage(c.usage().orElseThrow(), oracle.fin());
        assertThat(ids(c.choices().getFirst()._additionalProperties(), "token_ids")).isEqualTo(oracle.ids());
        Map<String, JsonValue> used = c._additionalProperties().get("documents")
                .convert(new TypeReference<Map<String, JsonValue>>() {});
        assertThat(used.get("used").convert(new TypeReference<List<String>>() {}))
                .isEqualTo(oracle.fin().getDocumentsUsedList()).isNotEmpty();
        assertThat(used.get("dropped").convert(new TypeReference<List<String>>() {}))
                .isEqualTo(oracle.fin().getDocumentsDroppedList());
    }

    @Test
    void modelsListsTheServedModel() {
        var models = client.models().list().data();
        assertThat(models).hasSize(1);
        assertThat(models.getFirst().id()).isEqualTo(grpc.getModelInfo(GetModelInfoRequest.getDefaultInstance())
                .getName());
    }

    private static Value value(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    private static Struct struct(Map<String, Value> fields) {
        return Struct.newBuilder().putAllFields(fields).build();
    }
}
