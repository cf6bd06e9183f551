package io.nemotron.service.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.openai.errors.BadRequestException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.completions.CompletionUsage;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.nemotron.api.v1.ChatFinal;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.Sampling;
import io.nemotron.api.v1.Tool;
import io.nemotron.api.v1.ToolCall;
import io.nemotron.core.engine.EngineSnapshot;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.ToolResponseMessage;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.metadata.Usage;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.definition.ToolDefinition;
import reactor.core.Disposable;

/**
 * Issue 18, must-show 1 (second half): Spring AI's OpenAI chat model ({@code org.springframework.ai:spring-ai-openai}
 * 2.0.1, which sits on the official openai-java SDK) and its fluent {@link ChatClient} against the real server (real
 * engine, embedded demo model, API keys on) on a loopback port, with the Chat RPC as the oracle for what the engine
 * generates.
 *
 * <p>The model is built by hand from the plain module, not from the starter {@code spring-ai-starter-model-openai}:
 * the starter's auto-configuration would switch on in every Spring Boot context of the test classpath (TestServer's
 * included) and demand {@code spring.ai.openai.api-key} there, so the service's other tests would fail to start.
 *
 * <p>What Spring AI 2.0.1 cannot express, so these tests cannot either (OpenAiSdkIT covers them with the raw SDK):
 * the answer's {@code token_ids} / {@code prompt_token_ids} (a request may add them through {@code extraBody}, but
 * neither the Generation's nor the AssistantMessage's metadata keeps unknown response fields), so text is compared
 * rather than ids; logprobs (the {@code logprobs}/{@code topLogprobs} options are sent, the values are not surfaced);
 * {@code /v1/completions}, {@code /v1/models} and the {@code documents} extension's response (no API for them); and
 * the stream's chunks on the wire (Spring AI hands out one ChatResponse per chunk, with finish reason
 * {@code _UNKNOWN} until the last, so the role-first / usage-last framing is OpenAiSdkIT's to check).
 */
class SpringAiClientIT {
    private static final String KEY = "sk-spring-ai-1";
    private static final String USER = "Once upon a time there was a little robot who";

    @TempDir
    static Path tmp;
    private static TestServer server;
    private static ManagedChannel channel;
    private static NemotronGrpc.NemotronBlockingStub grpc;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.loopbackRealEngine(Files.createDirectories(tmp.resolve("cache")),
                "--nemotron.model.threads=1", "--nemotron.security.api-keys=" + KEY);
        channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port, InsecureChannelCredentials.create())
                .build();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + KEY);
        grpc = NemotronGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    @AfterAll
    static void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
    }

    /** Spring AI's chat model pointed at our HTTP API: its own openai-java client, built from these options. */
    private static OpenAiChatModel model(String key, OpenAiChatOptions.Builder options) {
        return OpenAiChatModel.builder().options(options.baseUrl("http://127.0.0.1:" + server.httpPort() + "/v1")
                .apiKey(key).maxRetries(0).timeout(Duration.ofMinutes(2)).build()).build();
    }

    private static OpenAiChatOptions.Builder greedy(int maxTokens) {
        return OpenAiChatOptions.builder().model("demo").temperature(0.0).maxCompletionTokens(maxTokens);
    }

    private static ChatRequest.Builder grpcGreedy(int maxTokens) {
        return ChatRequest.newBuilder().addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(USER))
                .setSampling(Sampling.newBuilder().setTemperature(0f)).setMaxTokens(maxTokens);
    }

    /** What the Chat RPC produced: its content and its final. */
    record GrpcChat(String content, ChatFinal fin) {}

    private static GrpcChat grpcChat(ChatRequest request) {
        StringBuilder content = new StringBuilder();
        ChatFinal fin = null;
        for (Iterator<ChatResponse> it = grpc.chat(request); it.hasNext(); ) {
            ChatResponse r = it.next();
            if (r.hasContent()) {
                content.append(r.getContent().getText());
            }
            if (r.hasFinal()) {
                fin = r.getFinal();
            }
        }
        return new GrpcChat(content.toString(), fin);
    }

    private static void assertUsage(Usage usage, ChatFinal fin) {
        assertThat(usage.getPromptTokens()).isEqualTo(fin.getUsage().getPromptTokens());
        assertThat(usage.getCompletionTokens()).isEqualTo(fin.getUsage().getCompletionTokens());
        assertThat(usage.getTotalTokens()).isEqualTo(usage.getPromptTokens() + usage.getCompletionTokens());
    }

    /** The openai-java error Spring AI let through, wherever it sits in the cause chain. */
    private static <T extends OpenAIServiceException> T serviceError(Throwable thrown, Class<T> type) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in the cause chain", thrown);
    }

    @Test
    void chatClientCallGivesTheGrpcGreedyTextAndUsage() {
        GrpcChat oracle = grpcChat(grpcGreedy(12).build());
        org.springframework.ai.chat.model.ChatResponse r = ChatClient.create(model(KEY, greedy(12))).prompt()
                .user(USER).call().chatResponse();

        assertThat(r.getResults()).hasSize(1);
        assertThat(r.getResult().getOutput().getText()).isEqualTo(oracle.content());
        assertThat(r.getResult().getMetadata().getFinishReason()).isEqualToIgnoringCase("length");
        assertUsage(r.getMetadata().getUsage(), oracle.fin());
        assertThat(r.getMetadata().getId()).startsWith("chatcmpl-");
    }

    @Test
    void chatClientStreamGivesTheSameTextAndUsageLast() {
        GrpcChat oracle = grpcChat(grpcGreedy(12).build());
        List<org.springframework.ai.chat.model.ChatResponse> responses = model(KEY, greedy(12).streamUsage(true))
                .stream(new Prompt(USER)).collectList().block(Duration.ofMinutes(2));

        StringBuilder text = new StringBuilder();
        responses.stream().flatMap(r -> r.getResults().stream()).map(g -> g.getOutput().getText())
                .filter(t -> t != null).forEach(text::append);
        assertThat(text.toString()).isEqualTo(oracle.content());
        assertThat(responses.size()).isGreaterThan(2);
        assertUsage(responses.getLast().getMetadata().getUsage(), oracle.fin());
        // the fluent client's content() stream is the same text
        String viaClient = String.join("", ChatClient.create(model(KEY, greedy(12))).prompt().user(USER).stream()
                .content().collectList().block(Duration.ofMinutes(2)));
        assertThat(viaClient).isEqualTo(oracle.content());
    }

    @Test
    void twoChoicesAreTwoGenerationsOfTheOneGreedyAnswer() {
        GrpcChat oracle = grpcChat(grpcGreedy(6).build());
        org.springframework.ai.chat.model.ChatResponse r = model(KEY, greedy(6).n(2)).call(new Prompt(USER));

        assertThat(r.getResults()).hasSize(2).allSatisfy(g -> assertThat(g.getOutput().getText())
                .isEqualTo(oracle.content()));
        Usage usage = r.getMetadata().getUsage();
        assertThat(usage.getPromptTokens()).isEqualTo(oracle.fin().getUsage().getPromptTokens());
        assertThat(usage.getCompletionTokens()).isEqualTo(2 * oracle.fin().getUsage().getCompletionTokens());
    }

    @Test
    void aToolResultInTheHistoryReachesThePromptAsInTheChatRpc() {
        String schema = "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, "
                + "\"required\": [\"city\"]}";
        AtomicInteger executed = new AtomicInteger();
        ToolCallback weather = new ToolCallback() {
            @Override
            public ToolDefinition getToolDefinition() {
                return ToolDefinition.builder().name("get_weather").description("Current weather of a city")
                        .inputSchema(schema).build();
            }

            @Override
            public String call(String arguments) {
                executed.incrementAndGet();
                return "{\"temperature_c\": 21}";
            }
        };
        List<Message> history = List.of(new UserMessage("What is the weather in Paris?"),
                AssistantMessage.builder().content("").toolCalls(List.of(new AssistantMessage.ToolCall("call_0",
                        "function", "get_weather", "{\"city\": \"Paris\"}"))).build(),
                ToolResponseMessage.builder().responses(List.of(new ToolResponseMessage.ToolResponse("call_0",
                        "get_weather", "{\"temperature_c\": 21}"))).build());
        org.springframework.ai.chat.model.ChatResponse r = model(KEY, greedy(8).toolCallbacks(weather))
                .call(new Prompt(history));

        ChatRequest same = ChatRequest.newBuilder()
                .addTools(Tool.newBuilder().setName("get_weather").setDescription("Current weather of a city")
                        // the schema's keys in the order Spring AI sends them: the prompt renders them as given
                        .setParameters(Struct.newBuilder().putFields("type", value("object"))
                                .putFields("properties", Value.newBuilder().setStructValue(struct(Map.of("city",
                                        Value.newBuilder().setStructValue(struct(Map.of("type", value("string"))))
                                                .build()))).build())
                                .putFields("required", Value.newBuilder().setListValue(ListValue.newBuilder()
                                        .addValues(value("city"))).build())))
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER)
                        .setContent("What is the weather in Paris?"))
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_ASSISTANT).addToolCalls(ToolCall.newBuilder()
                        .setId("call_0").setName("get_weather").setArguments(struct(Map.of("city", value("Paris"))))))
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_TOOL).setToolCallId("call_0")
                        .setContent("{\"temperature_c\": 21}"))
                .setSampling(Sampling.newBuilder().setTemperature(0f)).setMaxTokens(8).build();
        GrpcChat oracle = grpcChat(same);
        GrpcChat withoutTheResult = grpcChat(same.toBuilder().removeMessages(2).build());

        // the demo model answers in text, not with a new call: Spring AI had nothing to execute
        assertThat(executed).hasValue(0);
        assertUsage(r.getMetadata().getUsage(), oracle.fin());
        assertThat(r.getMetadata().getUsage().getPromptTokens())
                .isGreaterThan(withoutTheResult.fin().getUsage().getPromptTokens());
        assertThat(r.getResult().getOutput().getText()).isEqualTo(oracle.content());
    }

    @Test
    void aRepeatedPromptReportsCachedTokens() {
        String longer = "The quick brown fox jumps over the lazy dog. ".repeat(8);
        OpenAiChatModel model = model(KEY, greedy(2));
        Usage first = model.call(new Prompt(longer)).getMetadata().getUsage();
        Usage second = model.call(new Prompt(longer)).getMetadata().getUsage();
        int blockSize = server.context.getBean(ModelHost.class).ready().engine().snapshot().blockSize();

        assertThat(second.getPromptTokens()).isEqualTo(first.getPromptTokens()).isGreaterThan(4 * blockSize);
        // Spring AI's portable view and the SDK's own object under it agree
        long cached = ((CompletionUsage) second.getNativeUsage()).promptTokensDetails().orElseThrow().cachedTokens()
                .orElseThrow();
        assertThat(second.getCacheReadInputTokens()).isEqualTo(cached);
        // prefix caching shares whole blocks, and at least the last prompt token is always computed
        assertThat(cached).isPositive().isLessThan(second.getPromptTokens());
        assertThat(cached % blockSize).isZero();
        assertThat(cached).isGreaterThanOrEqualTo((second.getPromptTokens() - 1) / blockSize * blockSize - blockSize);
    }

    @Test
    void aBadParameterSurfacesAs400NamingIt() {
        Throwable thrown = catchThrowable(() -> model(KEY, greedy(4).temperature(-0.5)).call(new Prompt(USER)));
        BadRequestException e = serviceError(thrown, BadRequestException.class);
        assertThat(e.statusCode()).isEqualTo(400);
        assertThat(e.param()).contains("temperature");
        assertThat(e.type()).contains("invalid_request_error");
    }

    @Test
    void aWrongKeySurfacesAs401() {
        Throwable called = catchThrowable(() -> model("sk-wrong", greedy(4)).call(new Prompt(USER)));
        assertThat(serviceError(called, UnauthorizedException.class).statusCode()).isEqualTo(401);
        Throwable streamed = catchThrowable(() -> model("sk-wrong", greedy(4)).stream(new Prompt(USER))
                .blockLast(Duration.ofMinutes(1)));
        assertThat(serviceError(streamed, UnauthorizedException.class).statusCode()).isEqualTo(401);
    }

    @Test
    void aStreamDisposedMidWayFreesItsKvBlocks() {
        ModelHost host = server.context.getBean(ModelHost.class);
        int total = host.ready().engine().snapshot().totalBlocks();
        List<String> received = Collections.synchronizedList(new ArrayList<>());
        Disposable subscription = model(KEY, greedy(3000)).stream(new Prompt(USER)).subscribe(r -> r.getResults()
                .stream().map(Generation::getOutput).forEach(m -> received.add(String.valueOf(m.getText()))));
        try {
            await().atMost(Duration.ofMinutes(1)).until(() -> received.size() >= 3);
            EngineSnapshot during = host.ready().engine().snapshot();
            assertThat(during.running()).isEqualTo(1);
            assertThat(during.freeBlocks()).isLessThan(total);
        } finally {
            subscription.dispose(); // cancelling the Flux is all a Spring AI caller can do to leave
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            EngineSnapshot s = host.ready().engine().snapshot();
            assertThat(s.running() + s.waiting()).isZero();
            assertThat(s.freeBlocks()).isEqualTo(total);
        });
    }

    private static Value value(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    private static Struct struct(Map<String, Value> fields) {
        return Struct.newBuilder().putAllFields(fields).build();
    }
}
