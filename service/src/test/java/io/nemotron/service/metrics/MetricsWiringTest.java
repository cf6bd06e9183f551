package io.nemotron.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.micrometer.core.instrument.MeterRegistry;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.Document;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.TokenIds;
import io.nemotron.core.chat.Thinking;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.grpc.stream.BufferedChatOutput;
import io.nemotron.service.grpc.stream.ChatPipelineFactory;
import io.nemotron.service.testing.TestServer;
import io.nemotron.service.toolcall.ToolChoice;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.grpc.server.GlobalServerInterceptor;

/**
 * The metrics as the application wires them: the real Spring context with the fake engine (one token per step),
 * in-process gRPC, and the management port over HTTP. An extra interceptor that rejects calls on its own stands in
 * for the authentication interceptor: the outcome interceptor must still see its status.
 */
class MetricsWiringTest {
    private static final Metadata.Key<String> REJECT = Metadata.Key.of("x-test-reject", Metadata.ASCII_STRING_MARSHALLER);
    private static TestServer server;
    private static MeterRegistry registry;

    @BeforeAll
    static void start() {
        server = TestServer.inProcess(true, "--spring.main.sources=" + RejectingInterceptor.class.getName());
        registry = server.context.getBean(MeterRegistry.class);
        await().atMost(Duration.ofSeconds(20)).until(() -> server.context.getBean(ModelHost.class).loaded().isDone());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aGenerateRequestIsCountedTimedAndItsStepsRecorded() {
        var stub = NemotronGrpc.newBlockingStub(server.channel);
        double stepsBefore = registry.get("nemotron.engine.step").timer().count();
        List<Object> responses = new ArrayList<>();
        stub.generate(GenerateRequest.newBuilder()
                .setTokenIds(TokenIds.newBuilder().addIds(1).addIds(403).addIds(407).addIds(261).addIds(378))
                .setMaxTokens(4).build()).forEachRemaining(responses::add);

        assertThat(responses).hasSize(5); // four deltas and the final
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(requests("Generate", "OK")).isEqualTo(1));
        assertThat(registry.get("nemotron.prompt.tokens").tag("rpc", "generate").counter().count()).isEqualTo(5);
        assertThat(registry.get("nemotron.generation.tokens").tag("rpc", "generate").counter().count()).isEqualTo(4);
        assertThat(registry.get("nemotron.inter.token.latency").tag("rpc", "generate").timer().count()).isEqualTo(3);
        assertThat(registry.get("nemotron.time.to.first.token").tag("rpc", "generate").timer().count()).isEqualTo(1);
        assertThat(registry.get("nemotron.e2e.request.latency").tag("rpc", "generate").timer().count()).isEqualTo(1);
        // the fake engine steps once per token
        assertThat(registry.get("nemotron.engine.step").timer().count() - stepsBefore).isEqualTo(4);
    }

    @Test
    void statusesThatOtherInterceptorsAndTheServiceProduceAreCounted() {
        var health = HealthGrpc.newBlockingStub(server.channel);
        Metadata reject = new Metadata();
        reject.put(REJECT, "yes");
        assertThatThrownBy(() -> health.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(reject))
                .check(HealthCheckRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        assertThat(registry.get(RequestOutcomeInterceptor.NAME).tag("service", "grpc.health.v1.Health")
                .tag("method", "Check").tag("code", "UNAUTHENTICATED").counter().count()).isEqualTo(1);

        // an exception the service throws, mapped to a status by the exception handler inside
        var stub = NemotronGrpc.newBlockingStub(server.channel);
        assertThatThrownBy(() -> stub.generate(GenerateRequest.newBuilder().setText("").build()).hasNext())
                .isInstanceOf(StatusRuntimeException.class);
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(requests("Generate", "INVALID_ARGUMENT")).isEqualTo(1));
    }

    @Test
    void droppedDocumentsAreCountedByReason() {
        var stub = NemotronGrpc.newBlockingStub(server.channel);
        List<ChatResponse> responses = new ArrayList<>();
        stub.chat(ChatRequest.newBuilder()
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent("Where is the cat?"))
                .addDocuments(Document.newBuilder().setId("a").setText("The cat sat on the warm mat all day long."))
                .addDocuments(Document.newBuilder().setId("b").setText("The cat sat on the warm mat all day long."))
                .addDocuments(Document.newBuilder().setId("c").setText(""))
                .setMaxTokens(2).build()).forEachRemaining(responses::add);

        assertThat(responses.getLast().getFinal().getDocumentsDroppedList()).containsExactly("b", "c");
        assertThat(dropped("duplicate")).isEqualTo(1);
        assertThat(dropped("empty")).isEqualTo(1);
        assertThat(dropped("no_room")).isZero();
    }

    @Test
    void theChatPipelineReportsToolCallFailuresToTheMetrics() {
        io.nemotron.core.chat.ChatRequest request = new io.nemotron.core.chat.ChatRequest(
                List.of(new io.nemotron.core.chat.ChatMessage(io.nemotron.core.chat.Role.USER, "Weather?", List.of(),
                        null, null)),
                List.of(Map.of("name", "get_weather", "parameters", Map.of("type", "object",
                        "properties", Map.of("city", Map.of("type", "string")), "required", List.of("city")))),
                Thinking.OFF, List.of(), null, null);
        var pipeline = server.context.getBean(ChatPipelineFactory.class)
                .create(request, false, ToolChoice.AUTO, new BufferedChatOutput());
        pipeline.accept("<TOOLCALL>[get_weather(]</TOOLCALL><TOOLCALL>[get_weather()]</TOOLCALL>");
        pipeline.finish();

        assertThat(registry.get("nemotron.tool.call.parse.failures").counter().count()).isEqualTo(1);
        assertThat(registry.get("nemotron.tool.call.validation.errors").counter().count()).isEqualTo(1);
    }

    @Test
    void theManagementPortServesPrometheusAndTheGatewayNamesAndNothingElse() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + server.managementPort() + "/actuator/";

        HttpResponse<String> prometheus = get(http, base + "prometheus");
        assertThat(prometheus.statusCode()).isEqualTo(200);
        assertThat(prometheus.body()).contains("# TYPE nemotron_requests_total counter",
                "# TYPE nemotron_time_to_first_token_seconds histogram",
                "nemotron_time_to_first_token_seconds_bucket{rpc=\"chat\",le=\"0.01\"}",
                "# TYPE jvm_memory_used_bytes gauge",
                "# TYPE nemotron_model_load_bytes gauge", "# TYPE nemotron_model_load_total_bytes gauge",
                "# TYPE nemotron_model_load_seconds gauge").doesNotContain("vllm:");
        HttpResponse<String> gie = get(http, base + "gie");
        assertThat(gie.statusCode()).isEqualTo(200);
        assertThat(gie.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/plain;version=0.0.4"));
        assertThat(gie.body()).contains("# TYPE vllm:num_requests_waiting gauge", "vllm:cache_config_info{");
        assertThat(get(http, base + "health").statusCode()).isEqualTo(200);
        assertThat(get(http, base + "env").statusCode()).isEqualTo(404);
        assertThat(get(http, base + "beans").statusCode()).isEqualTo(404);
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static double requests(String method, String code) {
        var counter = registry.find(RequestOutcomeInterceptor.NAME).tag("service", "nemotron.v1.Nemotron")
                .tag("method", method).tag("code", code).counter();
        return counter == null ? 0 : counter.count();
    }

    private static double dropped(String reason) {
        return registry.get("nemotron.rag.documents.dropped").tag("reason", reason).counter().count();
    }

    /**
     * Loaded through spring.main.sources; not a @Configuration, so component scanning never picks it up. Ordered
     * just after the outcome interceptor, as an authentication interceptor would be.
     */
    public static class RejectingInterceptor {
        @Bean
        @GlobalServerInterceptor
        @Order(Ordered.HIGHEST_PRECEDENCE + 1)
        ServerInterceptor rejectingInterceptor() {
            return new ServerInterceptor() {
                @Override
                public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                                   ServerCallHandler<Q, R> next) {
                    if (headers.containsKey(REJECT)) {
                        call.close(Status.UNAUTHENTICATED.withDescription("rejected by the test"), new Metadata());
                        return new ServerCall.Listener<>() {};
                    }
                    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {}, headers);
                }
            };
        }
    }
}
