package io.nemotron.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.Document;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.TokenIds;
import io.nemotron.api.v1.Tool;
import io.nemotron.api.v1.ToolChoice;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.TestServer;
import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** nemotron.limits.* through the in-process server: each ceiling is INVALID_ARGUMENT naming the field. */
class RequestLimitsTest {
    private static TestServer server;
    private static NemotronGrpc.NemotronBlockingStub stub;

    @BeforeAll
    static void start() {
        server = TestServer.inProcess(true, "--nemotron.limits.max-messages=3", "--nemotron.limits.max-tools=2",
                "--nemotron.limits.max-documents=2", "--nemotron.limits.max-prompt-tokens=400",
                "--nemotron.limits.max-tokens=8");
        stub = NemotronGrpc.newBlockingStub(server.channel);
        await().atMost(Duration.ofSeconds(20)).until(() -> server.context.getBean(ModelHost.class).loaded().isDone());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ChatMessage message(Role role, String text) {
        return ChatMessage.newBuilder().setRole(role).setContent(text).build();
    }

    private static ChatRequest.Builder hello() {
        return ChatRequest.newBuilder().setMaxTokens(2).addMessages(message(Role.ROLE_USER, "Once upon a time"));
    }

    private static Tool tool(String name) {
        return Tool.newBuilder().setName(name).setDescription("d").build();
    }

    private static Document document(String id) {
        return Document.newBuilder().setId(id).setText("a cat").build();
    }

    /** Token ids 1..n: each is one prompt token (stories260K's vocabulary has 512). */
    private static GenerateRequest.Builder ids(int n) {
        return GenerateRequest.newBuilder().setTokenIds(TokenIds.newBuilder()
                .addAllIds(IntStream.rangeClosed(1, n).boxed().toList()));
    }

    private static void assertInvalid(Runnable call, String description) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).isEqualTo(description);
        });
    }

    private static void drain(ChatRequest.Builder r) {
        stub.chat(r.build()).forEachRemaining(x -> {});
    }

    private static void drain(GenerateRequest.Builder r) {
        stub.generate(r.build()).forEachRemaining(x -> {});
    }

    @Test
    void messages() {
        ChatRequest.Builder three = hello().addMessages(message(Role.ROLE_ASSISTANT, "a"))
                .addMessages(message(Role.ROLE_USER, "b"));
        drain(three);
        assertInvalid(() -> drain(three.addMessages(message(Role.ROLE_ASSISTANT, "c"))),
                "messages: 4 messages, over nemotron.limits.max-messages (3)");
    }

    @Test
    void tools() {
        // tool_choice NONE keeps the tools out of the prompt: rendered, two of them overflow stories260K's context
        ChatRequest.Builder two = hello().setToolChoice(ToolChoice.newBuilder().setMode(ToolChoice.Mode.NONE))
                .addTools(tool("t1")).addTools(tool("t2"));
        drain(two);
        assertInvalid(() -> drain(two.addTools(tool("t3"))),
                "tools: 3 tools, over nemotron.limits.max-tools (2)");
    }

    @Test
    void documents() {
        drain(hello().addDocuments(document("d1")).addDocuments(document("d2")));
        assertInvalid(() -> drain(hello().addDocuments(document("d1")).addDocuments(document("d2"))
                        .addDocuments(document("d3"))),
                "documents: 3 documents, over nemotron.limits.max-documents (2)");
    }

    @Test
    void promptTokens() {
        drain(ids(400).setMaxTokens(1));
        assertThat(server.engine().last().request.promptIds()).hasSize(400);
        assertInvalid(() -> drain(ids(401).setMaxTokens(1)),
                "token_ids: the prompt is 401 tokens, over nemotron.limits.max-prompt-tokens (400)");
        assertThatThrownBy(() -> drain(hello().clearMessages().addMessages(message(Role.ROLE_USER, "a b ".repeat(400)))))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("messages: the prompt is ")
                            .endsWith(" tokens, over nemotron.limits.max-prompt-tokens (400)");
                });
    }

    @Test
    void maxTokens() {
        drain(ids(3).setMaxTokens(8));
        assertThat(server.engine().last().request.params().maxTokens()).isEqualTo(8);
        assertInvalid(() -> drain(ids(3).setMaxTokens(9)), "max_tokens: 9, over nemotron.limits.max-tokens (8)");
        assertInvalid(() -> drain(hello().setMaxTokens(9)), "max_tokens: 9, over nemotron.limits.max-tokens (8)");
        // uint32 past int's range is still refused by the limit, not wrapped
        assertInvalid(() -> drain(ids(3).setMaxTokens(-1)),
                "max_tokens: " + Integer.MAX_VALUE + ", over nemotron.limits.max-tokens (8)");
    }

    @Test
    void unsetMaxTokensFillsTheContextUpToTheLimit() {
        drain(ids(3));
        // stories260K's context is 512: 509 tokens of room, capped at 8
        assertThat(server.engine().last().request.params().maxTokens()).isEqualTo(8);
    }
}
