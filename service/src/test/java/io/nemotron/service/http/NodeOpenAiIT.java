package io.nemotron.service.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.nemotron.api.v1.ChatFinal;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.Sampling;
import io.nemotron.service.testing.Prerequisites;
import io.nemotron.service.testing.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 18, must-show 2: the npm {@code openai} package (5.x, installed from the npm registry into a temporary
 * folder) under this machine's node streams a chat completion from the real server with the demo model; its text,
 * finish reason and usage equal what the gRPC Chat RPC returns for the same greedy request. Node and npm are
 * prerequisites: missing on a developer's machine the test skips, under CI=true it fails (.ci/run installs them).
 */
class NodeOpenAiIT {
    private static final String USER = "Once upon a time there was a little robot who";
    private static final int MAX_TOKENS = 24;
    private static final Path SCRIPT = Path.of("src/test/node/openai-stream-chat.mjs").toAbsolutePath();

    @TempDir
    Path tmp;

    @Test
    void npmOpenAiStreamsTheSameAnswerAsGrpc() throws Exception {
        String why = missingNode();
        Prerequisites.require(why == null, why);
        Path modules = Files.createDirectories(tmp.resolve("npm"));
        run(modules, 300, "npm", "install", "--no-audit", "--no-fund", "--silent", "openai@5");
        Files.copy(SCRIPT, modules.resolve(SCRIPT.getFileName()));

        try (TestServer server = TestServer.loopbackRealEngine(Files.createDirectories(tmp.resolve("cache")),
                "--nemotron.model.threads=1")) {
            ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port,
                    InsecureChannelCredentials.create()).build();
            StringBuilder content = new StringBuilder();
            ChatFinal fin = null;
            try {
                ChatRequest request = ChatRequest.newBuilder()
                        .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(USER))
                        .setSampling(Sampling.newBuilder().setTemperature(0f)).setMaxTokens(MAX_TOKENS).build();
                for (Iterator<ChatResponse> it = NemotronGrpc.newBlockingStub(channel).chat(request); it.hasNext(); ) {
                    ChatResponse r = it.next();
                    if (r.hasContent()) {
                        content.append(r.getContent().getText());
                    }
                    if (r.hasFinal()) {
                        fin = r.getFinal();
                    }
                }
            } finally {
                channel.shutdownNow();
            }
            String body = "{\"model\": \"demo\", \"messages\": [{\"role\": \"user\", \"content\": \"" + USER + "\"}],"
                    + " \"max_tokens\": " + MAX_TOKENS + ", \"temperature\": 0}";
            String out = run(modules, 180, "node", SCRIPT.getFileName().toString(),
                    "http://127.0.0.1:" + server.httpPort() + "/v1", "unused-auth-is-off", body);
            JsonNode r = JsonMapper.builder().build().readTree(out.lines().reduce((a, b) -> b).orElseThrow());
            assertThat(fin).isNotNull();
            assertThat(r.get("content").asString()).isEqualTo(content.toString());
            assertThat(r.get("finish_reason").asString()).isEqualTo("length");   // 24 tokens, no EOS: as gRPC's LENGTH
            assertThat(fin.getFinishReason()).isEqualTo(io.nemotron.api.v1.FinishReason.LENGTH);
            assertThat(r.at("/usage/prompt_tokens").asInt()).isEqualTo(fin.getUsage().getPromptTokens());
            assertThat(r.at("/usage/completion_tokens").asInt()).isEqualTo(fin.getUsage().getCompletionTokens())
                    .isEqualTo(MAX_TOKENS);
            assertThat(r.get("chunks").asInt()).as("a streamed answer, not one body").isGreaterThan(2);
        }
    }

    /** Why node/npm cannot run here, or null. */
    private static String missingNode() {
        for (String tool : List.of("node", "npm")) {
            try {
                Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    p.destroyForcibly();
                    return tool + " --version failed (.ci/run installs Debian's nodejs and npm)";
                }
            } catch (IOException | InterruptedException e) {
                return "needs " + tool + " on PATH (.ci/run installs Debian's nodejs and npm): " + e.getMessage();
            }
        }
        return null;
    }

    private static String run(Path dir, int seconds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in " + seconds + " s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("%s:%n%s", String.join(" ", command), text).isZero();
        return text;
    }
}
