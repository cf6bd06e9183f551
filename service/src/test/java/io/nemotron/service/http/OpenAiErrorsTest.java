package io.nemotron.service.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.micrometer.core.instrument.MeterRegistry;
import io.nemotron.service.admission.ActiveStreams;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.FakeEngine;
import io.nemotron.service.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/**
 * The HTTP API's errors in OpenAI's shape, read by the official Java SDK and checked byte-level with a plain HTTP
 * client: 400 naming the parameter, 401 for a missing or wrong key, 429 with Retry-After (stream cap and a full
 * engine queue), 503 while draining. A fake engine over stories260K's tokenizer stands behind the real wiring.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenAiErrorsTest {
    private static final String KEY = "sk-test-http-1";
    private static TestServer server;
    private static OpenAIClient client;
    private static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        server = TestServer.loopback("--nemotron.security.api-keys=" + KEY, "--nemotron.grpc.max-request-size=64KB",
                "--nemotron.admission.max-concurrent-streams=1", "--nemotron.admission.retry-after=3s");
        await().atMost(Duration.ofSeconds(20)).until(() -> server.context.getBean(ModelHost.class).loaded().isDone());
        client = sdk(KEY);
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close();
    }

    /**
     * The only stream permit (max-concurrent-streams 1) is released when the server has ended the previous test's
     * response, which can be just after the client already holds all of it: wait for that, or a test's first request
     * may meet a 429 meant for nobody.
     */
    @BeforeEach
    void previousResponseEnded() throws InterruptedException {
        assertThat(server.context.getBean(ActiveStreams.class).awaitIdle(Duration.ofSeconds(10))).isTrue();
    }

    @AfterEach
    void reset() {
        FakeEngine e = server.engine();
        e.overloaded = false;
        e.failing = false;
        e.tokenDelayMs = 2;
    }

    private static OpenAIClient sdk(String key) {
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.httpPort() + "/v1").apiKey(key)
                .maxRetries(0).build();
    }

    private static ChatCompletionCreateParams.Builder hello() {
        return ChatCompletionCreateParams.builder().model("stories").addUserMessage("Once upon a time")
                .maxCompletionTokens(4);
    }

    private static HttpResponse<String> post(String path, String body, String key) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            r.header("Authorization", "Bearer " + key);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The error object, checked to have exactly OpenAI's four fields. */
    private static JsonNode error(HttpResponse<String> response) {
        JsonNode root = JsonFields.MAPPER.readTree(response.body());
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("application/json"));
        assertThat(root.propertyNames()).containsExactly("error");
        assertThat(root.get("error").propertyNames()).containsExactlyInAnyOrder("message", "type", "param", "code");
        return root.get("error");
    }

    @Test
    void theSdkReadsAnAnswerWithAValidKey() {
        var c = client.chat().completions().create(hello().build());
        assertThat(c.choices()).hasSize(1);
        assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(4);
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " => ", value = {
            "{\"messages\": []} => messages",
            "{\"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]} => messages[0].role",
            "{\"messages\": [{\"role\": \"user\", \"content\": 3}]} => messages[0].content",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"temperature\": -1} => temperature",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_p\": 0} => top_p",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 0} => n",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 100000000} => max_tokens",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_logprobs\": 3} => top_logprobs",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tool_choice\": \"sometimes\"} => tool_choice",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tool_choice\": \"required\"} => tool_choice",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"logit_bias\": {\"1\": 5}} => logit_bias",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi </s>\"}]} => messages[0].content",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream_options\": {}} => stream_options",
            "[1, 2] => body",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],  => body",
    })
    void aBadParameterIs400NamingIt(String body, String param) throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", body, KEY);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode e = error(r);
        assertThat(e.get("param").asString()).isEqualTo(param);
        assertThat(e.get("type").asString()).isEqualTo("invalid_request_error");
        assertThat(e.get("message").asString()).startsWith(param + ":");
    }

    @Test
    void aBodyOverTheRequestSizeLimitIs400NamingTheBody() throws Exception {
        String big = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "a".repeat(70 * 1024) + "\"}]}";
        HttpResponse<String> r = post("/v1/chat/completions", big, KEY);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).get("param").asString()).isEqualTo("body");
        assertThat(error(r).get("message").asString()).contains("nemotron.grpc.max-request-size");
        // chunked: no Content-Length, the limit trips while reading
        HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + server.httpPort() + "/v1/chat/completions")).header("Authorization", "Bearer " + KEY)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(
                        big.getBytes(java.nio.charset.StandardCharsets.UTF_8)))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(chunked.statusCode()).as(chunked.body()).isEqualTo(400);
        assertThat(error(chunked).get("param").asString()).isEqualTo("body");
        assertThat(error(chunked).get("message").asString()).contains("nemotron.grpc.max-request-size");
    }

    @Test
    void unknownRoutesAndMethodsAnswerInTheErrorShape() throws Exception {
        HttpResponse<String> missing = post("/v1/embeddings", "{}", KEY);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(error(missing).get("code").asString()).isEqualTo("not_found");
        HttpResponse<String> wrongMethod = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.httpPort() + "/v1/chat/completions")).header("Authorization", "Bearer " + KEY).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(error(wrongMethod).get("code").asString()).isEqualTo("method_not_allowed");
    }

    @Test
    void theSdkSeesTheParameterOfA400() {
        assertThatThrownBy(() -> client.chat().completions().create(hello().temperature(-0.5).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.param()).contains("temperature");
                    assertThat(e.type()).contains("invalid_request_error");
                });
    }

    @Test
    void completionsNameThePromptParameter() throws Exception {
        HttpResponse<String> r = post("/v1/completions", "{\"prompt\": [1, 99999999]}", KEY);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r).get("param").asString()).isEqualTo("prompt[1]");
        assertThat(error(post("/v1/completions", "{\"prompt\": \"\"}", KEY)).get("param").asString())
                .isEqualTo("prompt");
    }

    @Test
    void aMissingOrWrongKeyIs401() throws Exception {
        for (String key : new String[] {null, "sk-wrong"}) {
            HttpResponse<String> r = post("/v1/chat/completions", "{}", key);
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.headers().firstValue("WWW-Authenticate")).contains("Bearer");
            JsonNode e = error(r);
            assertThat(e.get("type").asString()).isEqualTo("authentication_error");
            assertThat(e.get("message").asString()).doesNotContain("sk-wrong");
        }
        OpenAIClient wrong = sdk("sk-wrong");
        try {
            assertThatThrownBy(() -> wrong.chat().completions().create(hello().build()))
                    .isInstanceOfSatisfying(UnauthorizedException.class, e -> assertThat(e.statusCode()).isEqualTo(401));
            assertThatThrownBy(() -> wrong.models().list()).isInstanceOf(UnauthorizedException.class);
        } finally {
            wrong.close();
        }
    }

    @Test
    void aFullEngineQueueIs429WithRetryAfter() throws Exception {
        server.engine().overloaded = true;
        HttpResponse<String> r = post("/v1/chat/completions",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", KEY);
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(r.headers().firstValue("Retry-After")).contains("3");
        assertThat(error(r).get("type").asString()).isEqualTo("rate_limit_error");
        assertThatThrownBy(() -> client.chat().completions().create(hello().build()))
                .isInstanceOfSatisfying(RateLimitException.class, e -> assertThat(e.statusCode()).isEqualTo(429));
    }

    @Test
    void aStreamOverTheConcurrentStreamCapIs429AndTheFirstOneFinishes() throws Exception {
        server.engine().tokenDelayMs = 100;
        try (StreamResponse<ChatCompletionChunk> first = client.chat().completions().createStreaming(
                hello().maxCompletionTokens(30).build())) {
            Iterator<ChatCompletionChunk> it = first.stream().iterator();
            it.next(); // admitted and streaming: it holds the one permit (max-concurrent-streams=1)
            HttpResponse<String> r = post("/v1/chat/completions",
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", KEY);
            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(r.headers().firstValue("Retry-After")).contains("3");
            assertThat(error(r).get("message").asString()).contains("max-concurrent-streams");
            assertThatThrownBy(() -> client.chat().completions().create(hello().build()))
                    .isInstanceOf(RateLimitException.class);
            int chunks = 1;
            while (it.hasNext()) {
                it.next();
                chunks++;
            }
            assertThat(chunks).isGreaterThan(1);
        }
        // the permit came back with the end of the stream
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(client.chat().completions().create(hello().build()).choices()).hasSize(1));
    }

    @Test
    void anEngineFailureMidStreamIsAnErrorEventNotAHang() throws Exception {
        server.engine().failing = true;
        HttpResponse<String> r = post("/v1/chat/completions",
                "{\"stream\": true, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", KEY);
        assertThat(r.statusCode()).isEqualTo(200); // the stream had begun: the status is already sent
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/event-stream"));
        String[] events = r.body().split("\n\n");
        assertThat(events[events.length - 1]).isEqualTo("data: [DONE]");
        JsonNode error = JsonFields.MAPPER.readTree(events[events.length - 2].substring("data: ".length()));
        assertThat(error.get("error").get("type").asString()).isEqualTo("server_error");
    }

    @Test
    void requestsAreCountedByRouteAndCodeBesideTheGrpcOnes() throws Exception {
        MeterRegistry registry = server.context.getBean(MeterRegistry.class);
        double before = count(registry, "/v1/chat/completions", "INVALID_ARGUMENT");
        double unauthenticated = count(registry, "/v1/chat/completions", "UNAUTHENTICATED");
        post("/v1/chat/completions", "{\"messages\": []}", KEY);
        post("/v1/chat/completions", "{}", null);
        client.chat().completions().create(hello().build());
        assertThat(count(registry, "/v1/chat/completions", "INVALID_ARGUMENT")).isEqualTo(before + 1);
        assertThat(count(registry, "/v1/chat/completions", "UNAUTHENTICATED")).isEqualTo(unauthenticated + 1);
        assertThat(count(registry, "/v1/chat/completions", "OK")).isPositive();
    }

    private static double count(MeterRegistry registry, String route, String code) {
        var c = registry.find("nemotron.requests").tag("service", "openai.v1").tag("method", route)
                .tag("code", code).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void whileTheModelLoadsTheApiIs503() throws Exception {
        // the gate holds the warm-up generation: the model stays loading until it opens
        try (TestServer loading = TestServer.inProcess(false)) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + loading.httpPort() + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.headers().firstValue("Retry-After")).isPresent();
            assertThat(error(r).get("message").asString()).contains("loading");
            loading.openGate();
        }
    }

    @Test
    @Order(Integer.MAX_VALUE) // last: the server stays draining
    void whileDrainingEveryRouteIs503WithRetryAfter() throws Exception {
        server.context.getBean(ModelHost.class).beginDrain();
        HttpResponse<String> r = post("/v1/chat/completions",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", KEY);
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).contains("3");
        assertThat(error(r).get("type").asString()).isEqualTo("service_unavailable");
        assertThatThrownBy(() -> client.models().list()).isInstanceOfSatisfying(OpenAIServiceException.class,
                e -> assertThat(e.statusCode()).isEqualTo(503));
    }
}
