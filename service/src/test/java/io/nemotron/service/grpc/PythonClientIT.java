package io.nemotron.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.PythonGrpcClient;
import io.nemotron.service.testing.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The server on a loopback port driven by an independent client ({@link PythonGrpcClient}: Python grpcio from Debian's
 * packages, with stubs generated now from api-proto's .proto files). Runs in the {@code slow} profile through failsafe.
 * The server runs the fake engine over stories260K for now; the real engine and demo model replace it on integration.
 */
class PythonClientIT {
    @TempDir
    Path tmp;

    @Test
    void pythonClientStreamsCancelsTimesOutAndSeesHealthAndReflection() throws Exception {
        PythonGrpcClient client = PythonGrpcClient.required(tmp);

        try (TestServer server = TestServer.loopback()) {
            // the client checks health first: it must find the model loaded, not still loading
            server.context.getBean(ModelHost.class).loaded().get(1, TimeUnit.MINUTES);
            // stories260K's context holds 400 tokens after the prompt: 10 ms each makes the long streams last 4 s
            server.engine().tokenDelayMs = 10;
            JsonNode r = client.scenarios(server.port, 120, 400);

            assertThat(r.at("/health/overall").asString()).isEqualTo("SERVING");
            assertThat(r.at("/health/nemotron.v1.Nemotron").asString()).isEqualTo("SERVING");
            List<String> services = new ArrayList<>();
            r.get("reflection").forEach(n -> services.add(n.asString()));
            assertThat(services).contains("nemotron.v1.Nemotron", "grpc.health.v1.Health");

            JsonNode chat = r.get("chat");
            assertThat(chat.get("finish_reason").asString()).isEqualTo("LENGTH");
            assertThat(chat.get("completion_tokens").asInt()).isEqualTo(6);
            assertThat(chat.get("request_id").asString()).isEqualTo("py-chat");
            assertThat(chat.get("kinds").get(chat.get("kinds").size() - 1).asString()).isEqualTo("final");

            assertThat(r.at("/cancel/received_before_cancel").asInt()).isEqualTo(2);
            assertThat(r.at("/cancel/outcome").asString()).isEqualTo("CANCELLED");
            // the fake engine: 10 ms per token, 400 tokens: the 1 s deadline passes mid-stream
            assertThat(r.at("/deadline/status").asString()).isEqualTo("DEADLINE_EXCEEDED");

            // the client has gone, but the server learns of the cancel (RST_STREAM) and of its own deadline
            // asynchronously: both engine requests are cancelled within moments, not necessarily yet
            var handles = server.engine().handles;
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(handles.stream().filter(h -> h.request.params().maxTokens() == 400))
                            .hasSize(2).allSatisfy(h -> assertThat(h.cancelled).isTrue()));
        }
    }

    @Test
    void pythonClientAgainstTheRealEngineAndTheDemoModel() throws Exception {
        PythonGrpcClient client = PythonGrpcClient.required(tmp);

        try (TestServer server = TestServer.loopbackRealEngine(Files.createDirectories(tmp.resolve("cache")))) {
            JsonNode r = client.scenarios(server.port, 180, 2000);

            // 2,000 tokens of the demo model take seconds on this machine: the 1 s deadline passes mid-stream
            PythonGrpcClient.assertScenariosPassed(r);

            // cancelled and expired requests left the batch and gave their KV blocks back
            var engine = server.context.getBean(io.nemotron.service.engine.ModelHost.class).ready().engine();
            long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
            var snap = engine.snapshot();
            while ((snap.freeBlocks() != snap.totalBlocks() || snap.running() + snap.waiting() > 0)
                    && System.nanoTime() < until) {
                Thread.sleep(20);
                snap = engine.snapshot();
            }
            assertThat(snap.freeBlocks()).as("%s", snap).isEqualTo(snap.totalBlocks());
        }
    }
}
