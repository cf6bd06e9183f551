package io.nemotron.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Role;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** The security configuration as the application wires it (in-process transport, fake engine). */
@ExtendWith(OutputCaptureExtension.class)
class SecurityTest {
    private static final String KEY = "alpha-key-0123456789";   // sha256 c0dcc758...

    @TempDir
    Path tmp;

    private static ChatRequest chat(String text) {
        return ChatRequest.newBuilder().setMaxTokens(3)
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text)).build();
    }

    private static NemotronGrpc.NemotronBlockingStub authorized(TestServer server) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + KEY);
        return NemotronGrpc.newBlockingStub(server.channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private static void awaitLoaded(TestServer server) {
        await().atMost(Duration.ofSeconds(20)).until(() -> server.context.getBean(ModelHost.class).loaded().isDone());
    }

    @Test
    void keysFromAFileGuardTheServiceAndContentIsLoggedWithTheClientWhenEnabled(CapturedOutput log) throws Exception {
        Path keys = Files.writeString(tmp.resolve("keys"), "# mounted Secret\n" + KEY + "\n");
        try (TestServer server = TestServer.inProcess(true, "--nemotron.security.api-keys-file=" + keys,
                "--nemotron.security.require-api-key=true", "--nemotron.security.log-content=true")) {
            awaitLoaded(server);
            assertThatThrownBy(() -> NemotronGrpc.newBlockingStub(server.channel).chat(chat("unicorn")).next())
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
            // health and reflection are open by default
            HealthGrpc.newBlockingStub(server.channel).check(HealthCheckRequest.getDefaultInstance());

            authorized(server).chat(chat("Once upon a zebracorn")).forEachRemaining(r -> {});

            assertThat(log.getAll()).contains("API key authentication on: 1 key(s) [key-c0dcc758]")
                    .contains("key-c0dcc758 Chat request: messages { role: ROLE_USER content: \"Once upon a zebracorn\" }")
                    .contains("key-c0dcc758 Chat output (OK): ")
                    .doesNotContain("unicorn")   // the refused call never reached the content log
                    .doesNotContain(KEY);
        }
    }

    @Test
    void promptsAndOutputsAreNotLoggedByDefault(CapturedOutput log) {
        try (TestServer server = TestServer.inProcess(true, "--nemotron.security.api-keys=" + KEY)) {
            awaitLoaded(server);
            authorized(server).chat(chat("Once upon a zebracorn")).forEachRemaining(r -> {});
            assertThat(server.engine().last().request.promptIds()).isNotEmpty();
            assertThat(log.getAll()).contains("API key authentication on").doesNotContain("zebracorn")
                    .doesNotContain(KEY);
        }
    }

    @Test
    void requireApiKeyWithoutKeysStopsTheStart() {
        assertThatThrownBy(() -> TestServer.inProcess(true, "--nemotron.security.require-api-key=true").close())
                .rootCause().hasMessageStartingWith("nemotron.security.require-api-key is true but no API key is "
                        + "configured");
    }

    @Test
    void anEmptyKeysFileStopsTheStartNamingIt() throws Exception {
        Path keys = Files.writeString(tmp.resolve("keys"), "\n# keys go here\n");
        assertThatThrownBy(() -> TestServer.inProcess(true, "--nemotron.security.api-keys-file=" + keys).close())
                .rootCause().hasMessage("nemotron.security.api-keys-file " + keys
                        + ": holds no API key (one key per line; blank lines and # comments are ignored)");
    }
}
