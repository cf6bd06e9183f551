package io.nemotron.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.awaitility.Awaitility.await;

import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The server on a loopback port driven by an independent client: Python grpcio from Debian's packages, with stubs
 * generated now by Debian's protoc and grpc_python_plugin from api-proto's .proto files (so the published contract,
 * not our generated Java, is what the client speaks). Runs in the {@code slow} profile through failsafe.
 * The server runs the fake engine over stories260K for now; the real engine and demo model replace it on integration.
 */
class PythonClientIT {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path PROTOC = Path.of("/usr/bin/protoc");
    private static final Path GRPC_PLUGIN = Path.of("/usr/bin/grpc_python_plugin");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path tmp;

    @Test
    void pythonClientStreamsCancelsTimesOutAndSeesHealthAndReflection() throws Exception {
        Path stubs = stubsOrSkip();

        try (TestServer server = TestServer.loopback()) {
            // the client checks health first: it must find the model loaded, not still loading
            server.context.getBean(ModelHost.class).loaded().get(1, TimeUnit.MINUTES);
            // stories260K's context holds 400 tokens after the prompt: 10 ms each makes the long streams last 4 s
            server.engine().tokenDelayMs = 10;
            JsonNode r = client(server.port, stubs, 120, 400);

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
        Path stubs = stubsOrSkip();

        try (TestServer server = TestServer.loopbackRealEngine(Files.createDirectories(tmp.resolve("cache")))) {
            JsonNode r = client(server.port, stubs, 180, 2000);

            assertThat(r.at("/health/overall").asString()).isEqualTo("SERVING");
            List<String> services = new ArrayList<>();
            r.get("reflection").forEach(n -> services.add(n.asString()));
            assertThat(services).contains("nemotron.v1.Nemotron", "grpc.health.v1.Health");

            JsonNode chat = r.get("chat");
            assertThat(chat.get("finish_reason").asString()).isEqualTo("LENGTH");
            assertThat(chat.get("completion_tokens").asInt()).isEqualTo(6);
            assertThat(chat.get("kinds").get(chat.get("kinds").size() - 1).asString()).isEqualTo("final");
            assertThat(r.at("/cancel/outcome").asString()).isEqualTo("CANCELLED");
            // 2,000 tokens of the demo model take seconds on this machine: the 1 s deadline passes mid-stream
            assertThat(r.at("/deadline/status").asString()).as("%s", r.get("deadline")).isEqualTo("DEADLINE_EXCEEDED");

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

    /** Python stubs of the API, or the test is skipped (with the reason) where Debian's packages are missing. */
    private Path stubsOrSkip() throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(PROTOC) && Files.isExecutable(GRPC_PLUGIN),
                "needs Debian's protobuf-compiler and protobuf-compiler-grpc (.ci/run installs them)");
        assumeTrue(run(List.of(PYTHON.toString(), "-c", "import grpc, google.protobuf"), 60).code == 0,
                "/usr/bin/python3 lacks grpc: apt-get install python3-grpcio python3-protobuf (.ci/run installs them)");
        return generateStubs();
    }

    /** Runs the client against the server on {@code port}; its JSON report. */
    /** {@code longTokens}: max_tokens of the cancel and deadline streams, seconds of decoding on that engine. */
    private JsonNode client(int port, Path stubs, int timeoutSeconds, int longTokens)
            throws IOException, InterruptedException {
        Run client = run(List.of(PYTHON.toString(), script().toString(), "--target", "127.0.0.1:" + port,
                "--stubs", stubs.toString(), "--long-tokens", Integer.toString(longTokens)), timeoutSeconds);
        assertThat(client.code).as("client failed:\n%s", client.err).isZero();
        return JSON.readTree(client.out);
    }

    /** nemotron/v1/*.proto from api-proto, health and reflection from grpc-services' jar, under grpc_std/. */
    private Path generateStubs() throws IOException, InterruptedException {
        Path protos = tmp.resolve("proto");
        Path out = Files.createDirectories(tmp.resolve("stubs"));
        Path api = root().resolve("api-proto/src/main/proto");
        List<String> files = new ArrayList<>();
        try (var walk = Files.walk(api)) {
            for (Path p : walk.filter(p -> p.toString().endsWith(".proto")).toList()) {
                Path rel = api.relativize(p);
                Files.createDirectories(protos.resolve(rel).getParent());
                Files.copy(p, protos.resolve(rel));
                files.add(rel.toString());
            }
        }
        Files.createDirectories(protos.resolve("grpc_std"));
        for (String resource : List.of("grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto")) {
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(resource)) {
                assertThat(in).as(resource + " on the classpath (grpc-services)").isNotNull();
                String name = Path.of(resource).getFileName().toString();
                Files.copy(in, protos.resolve("grpc_std").resolve(name), StandardCopyOption.REPLACE_EXISTING);
                files.add("grpc_std/" + name);
            }
        }
        List<String> cmd = new ArrayList<>(List.of(PROTOC.toString(), "-I" + protos, "-I/usr/include",
                "--python_out=" + out, "--grpc_python_out=" + out, "--plugin=protoc-gen-grpc_python=" + GRPC_PLUGIN));
        cmd.addAll(files);
        Run protoc = run(cmd, 60);
        assertThat(protoc.code).as("protoc failed:\n%s", protoc.err).isZero();
        return out;
    }

    private static Path root() {
        return Path.of(System.getProperty("nemotron.root.dir", "..")).toAbsolutePath().normalize();
    }

    private static Path script() {
        return root().resolve("service/src/test/python/nemotron_client.py");
    }

    record Run(int code, String out, String err) {}

    private Run run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + cmd + "\n" + Files.readString(err));
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
