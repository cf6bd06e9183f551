package io.nemotron.service.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * An independent client of the server: Debian's Python grpcio running service/src/test/python/nemotron_client.py,
 * with stubs generated now by Debian's protoc and grpc_python_plugin from api-proto's .proto files (so the published
 * contract, not our generated Java, is what the client speaks). The client reports what it observed as JSON; the
 * tests decide.
 */
public final class PythonGrpcClient {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path PROTOC = Path.of("/usr/bin/protoc");
    private static final Path GRPC_PLUGIN = Path.of("/usr/bin/grpc_python_plugin");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path tmp;
    private final Path stubs;

    private PythonGrpcClient(Path tmp, Path stubs) {
        this.tmp = tmp;
        this.stubs = stubs;
    }

    /** Which Debian package is missing here (the reason to give), or null when the client can run. */
    public static String missing() throws IOException, InterruptedException {
        if (!Files.isExecutable(PROTOC) || !Files.isExecutable(GRPC_PLUGIN)) {
            return "needs Debian's protobuf-compiler and protobuf-compiler-grpc (.ci/run installs them)";
        }
        if (!Files.isExecutable(PYTHON)) {
            return "needs /usr/bin/python3 with Debian's python3-grpcio and python3-protobuf (.ci/run installs them)";
        }
        Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import grpc, google.protobuf")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            return "/usr/bin/python3 lacks grpc: apt-get install python3-grpcio python3-protobuf"
                    + " (.ci/run installs them)";
        }
        return null;
    }

    /**
     * The client with its stubs generated under {@code tmp}; without Debian's packages the calling test skips, or
     * fails under CI=true ({@link Prerequisites}).
     */
    public static PythonGrpcClient required(Path tmp) throws IOException, InterruptedException {
        String why = missing();
        Prerequisites.require(why == null, why);
        return generate(tmp);
    }

    /**
     * What every server must show the client's scenarios: health SERVING, reflection of both services, a streamed chat
     * of 6 tokens ending LENGTH with a final event, a cancelled stream CANCELLED, and a 1 s deadline passing mid-stream
     * (the long streams take seconds on any of our engines).
     */
    public static void assertScenariosPassed(JsonNode r) {
        assertThat(r.at("/health/overall").asString()).isEqualTo("SERVING");
        List<String> services = new ArrayList<>();
        r.get("reflection").forEach(n -> services.add(n.asString()));
        assertThat(services).contains("nemotron.v1.Nemotron", "grpc.health.v1.Health");
        JsonNode chat = r.get("chat");
        assertThat(chat.get("finish_reason").asString()).isEqualTo("LENGTH");
        assertThat(chat.get("completion_tokens").asInt()).isEqualTo(6);
        assertThat(chat.get("kinds").get(chat.get("kinds").size() - 1).asString()).isEqualTo("final");
        assertThat(r.at("/cancel/outcome").asString()).isEqualTo("CANCELLED");
        assertThat(r.at("/deadline/status").asString()).as("%s", r.get("deadline")).isEqualTo("DEADLINE_EXCEEDED");
    }

    /**
     * Generates the stubs under {@code tmp}: nemotron/v1/*.proto from api-proto, health and reflection from
     * grpc-services' jar under grpc_std/ (a top-level grpc/ would clash with the grpc package itself).
     */
    private static PythonGrpcClient generate(Path tmp) throws IOException, InterruptedException {
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
            try (InputStream in = PythonGrpcClient.class.getClassLoader().getResourceAsStream(resource)) {
                assertThat(in).as(resource + " on the classpath (grpc-services)").isNotNull();
                String name = Path.of(resource).getFileName().toString();
                Files.copy(in, protos.resolve("grpc_std").resolve(name), StandardCopyOption.REPLACE_EXISTING);
                files.add("grpc_std/" + name);
            }
        }
        List<String> cmd = new ArrayList<>(List.of(PROTOC.toString(), "-I" + protos, "-I/usr/include",
                "--python_out=" + out, "--grpc_python_out=" + out, "--plugin=protoc-gen-grpc_python=" + GRPC_PLUGIN));
        cmd.addAll(files);
        Run protoc = run(tmp, cmd, 60);
        assertThat(protoc.code()).as("protoc failed:\n%s", protoc.err()).isZero();
        return new PythonGrpcClient(tmp, out);
    }

    /**
     * Runs every scenario of the client against the server on {@code 127.0.0.1:port}; its JSON report.
     * {@code longTokens}: max_tokens of the cancel and deadline streams, seconds of decoding on that engine.
     */
    public JsonNode scenarios(int port, int timeoutSeconds, int longTokens) throws IOException, InterruptedException {
        Path script = root().resolve("service/src/test/python/nemotron_client.py");
        Run client = run(tmp, List.of(PYTHON.toString(), script.toString(), "--target", "127.0.0.1:" + port,
                "--stubs", stubs.toString(), "--long-tokens", Integer.toString(longTokens)), timeoutSeconds);
        assertThat(client.code()).as("client failed:\n%s", client.err()).isZero();
        return JSON.readTree(client.out());
    }

    private static Path root() {
        return Path.of(System.getProperty("nemotron.root.dir", "..")).toAbsolutePath().normalize();
    }

    record Run(int code, String out, String err) {}

    private static Run run(Path tmp, List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
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
