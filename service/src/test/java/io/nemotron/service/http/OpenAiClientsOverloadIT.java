package io.nemotron.service.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;

/**
 * Issue 18, must-show 1, the overload and drain shapes against the real server with the demo model (real engine, one
 * stream allowed at a time, API keys on), through both clients: the official openai-java SDK and Spring AI's
 * {@link OpenAiChatModel}. While one streamed answer holds the only stream permit, a second request from either
 * client is refused with 429 (the SDK's status, with Retry-After on the wire); once the server drains, both get 503.
 * The SDK's 400 naming the parameter and 401 for a wrong key are checked here too (Spring AI's: SpringAiClientIT).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OpenAiClientsOverloadIT {
    private static final String KEY = "sk-overload-1";

    @TempDir
    static Path tmp;
    private static TestServer server;
    private static OpenAIClient sdk;
    private static OpenAiChatModel springAi;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.loopbackRealEngine(Files.createDirectories(tmp.resolve("cache")),
                "--nemotron.model.threads=1", "--nemotron.security.api-keys=" + KEY,
                "--nemotron.admission.max-concurrent-streams=1", "--nemotron.admission.retry-after=3s");
        String base = "http://127.0.0.1:" + server.httpPort() + "/v1";
        sdk = OpenAIOkHttpClient.builder().baseUrl(base).apiKey(KEY).maxRetries(0)
                .timeout(Duration.ofMinutes(2)).build();
        springAi = OpenAiChatModel.builder().options(OpenAiChatOptions.builder().model("demo").temperature(0.0)
                .maxCompletionTokens(8).baseUrl(base).apiKey(KEY).maxRetries(0).timeout(Duration.ofMinutes(2))
                .build()).build();
    }

    @AfterAll
    static void stop() {
        if (sdk != null) {
            sdk.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static ChatCompletionCreateParams.Builder hello(int maxTokens) {
        return ChatCompletionCreateParams.builder().model("demo").addUserMessage("Once upon a time")
                .maxCompletionTokens(maxTokens).temperature(0.0);
    }

    /** The HTTP status of the OpenAI error somewhere in {@code e}'s causes (Spring AI may wrap the SDK's). */
    private static int status(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OpenAIServiceException s) {
                return s.statusCode();
            }
        }
        throw new AssertionError("no OpenAI service error in " + e, e);
    }

    @Test
    @Order(0)
    void theSdkGets400NamingTheParameterAnd401ForAWrongKey() {
        assertThatThrownBy(() -> sdk.chat().completions().create(hello(4).temperature(-0.5).build()))
                .isInstanceOfSatisfying(com.openai.errors.BadRequestException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.body().toString()).contains("temperature");
                });
        OpenAIClient wrong = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.httpPort() + "/v1")
                .apiKey("sk-wrong").maxRetries(0).build();
        try {
            assertThatThrownBy(() -> wrong.chat().completions().create(hello(4).build()))
                    .isInstanceOfSatisfying(com.openai.errors.UnauthorizedException.class,
                            e -> assertThat(e.statusCode()).isEqualTo(401));
        } finally {
            wrong.close();
        }
    }

    @Test
    @Order(1)
    void underOverloadBothClientsAreRefusedWith429() {
        // an answer long enough to be streaming while the others arrive (the demo model, one thread, 2,000 tokens)
        try (StreamResponse<ChatCompletionChunk> held = sdk.chat().completions().createStreaming(hello(2000).build())) {
            Iterator<ChatCompletionChunk> it = held.stream().iterator();
            it.next();   // admitted and streaming: it holds the one permit
            assertThatThrownBy(() -> sdk.chat().completions().create(hello(8).build()))
                    .satisfies(e -> assertThat(status(e)).isEqualTo(429))
                    .isInstanceOfSatisfying(OpenAIServiceException.class, e -> assertThat(
                            e.headers().values("Retry-After")).containsExactly("3"));
            assertThatThrownBy(() -> springAi.call(new Prompt("Once upon a time")))
                    .satisfies(e -> assertThat(status(e)).isEqualTo(429));
        }
        // the held stream was closed mid-way: its permit comes back and both clients are served again
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() ->
                assertThat(sdk.chat().completions().create(hello(4).build()).choices()).hasSize(1));
        assertThat(springAi.call(new Prompt("Once upon a time")).getResult().getOutput().getText()).isNotEmpty();
    }

    @Test
    @Order(2)   // last: the server stays draining
    void whileDrainingBothClientsAreRefusedWith503() {
        server.context.getBean(ModelHost.class).beginDrain();
        assertThatThrownBy(() -> sdk.chat().completions().create(hello(4).build()))
                .satisfies(e -> assertThat(status(e)).isEqualTo(503))
                .isInstanceOfSatisfying(OpenAIServiceException.class, e -> assertThat(
                        e.headers().values("Retry-After")).containsExactly("3"));
        assertThatThrownBy(() -> springAi.call(new Prompt("Once upon a time")))
                .satisfies(e -> assertThat(status(e)).isEqualTo(503));
    }
}
