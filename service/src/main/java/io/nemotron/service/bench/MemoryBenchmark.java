package io.nemotron.service.bench;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.ModelInfo;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Sampling;
import io.nemotron.api.v1.TokenIds;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The resident memory of a real server process after it served: starts {@code ./nemotron serve} (the launcher, so
 * the JVM runs with the flags a user's server gets), waits for SERVING, runs a few Generate calls, then reads the
 * process's /proc memory and its own JVM heap figures from its metrics endpoint, and stops it.
 */
public final class MemoryBenchmark {
    private static final Duration POLL = Duration.ofMillis(250);

    /**
     * @param launcher    the {@code nemotron} launcher script
     * @param modelDir    the checkpoint (with a tokenizer: the server refuses one without)
     * @param serveArgs   extra {@code serve} flags (e.g. {@code --threads 2})
     * @param requests    Generate calls served before the reading, one after another
     * @param promptLen   prompt tokens of each
     * @param maxTokens   tokens each generates (EOS ignored)
     * @param loadTimeout how long the load and warm-up may take
     * @param log         the server's stdout and stderr go here
     */
    public record Settings(Path launcher, Path modelDir, List<String> serveArgs, int requests, int promptLen,
                           int maxTokens, Duration loadTimeout, Path log) {
        public Settings {
            if (requests < 1 || promptLen < 1 || maxTokens < 1) {
                throw new IllegalArgumentException("--requests, --prompt-len and --max-tokens must be >= 1, got "
                        + requests + ", " + promptLen + ", " + maxTokens);
            }
        }
    }

    private final Settings settings;
    private final Consumer<String> progress;

    public MemoryBenchmark(Settings settings, Consumer<String> progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /** The checkpoint's weight bytes: the sizes of its safetensors files (headers are a few KiB of them). */
    public static long weightBytes(Path modelDir) {
        try (Stream<Path> files = Files.list(modelDir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + modelDir + ": " + e.getMessage(), e);
        }
    }

    public ServedMemory run() throws IOException, InterruptedException {
        int grpcPort = freePort();
        int managementPort = freePort();
        List<String> cmd = new ArrayList<>(List.of(settings.launcher().toString(), "serve",
                "--model", settings.modelDir().toString(), "--port", Integer.toString(grpcPort),
                "--http-port", "0", "--management-port", Integer.toString(managementPort)));
        cmd.addAll(settings.serveArgs());
        Files.createDirectories(settings.log().toAbsolutePath().getParent());
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(settings.log().toFile()).start();
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("localhost", grpcPort,
                InsecureChannelCredentials.create()).build();
        try {
            progress.accept("server pid " + server.pid() + " started; waiting for SERVING (log: " + settings.log() + ")");
            awaitServing(channel, server);
            ModelInfo info = NemotronGrpc.newBlockingStub(channel).getModelInfo(GetModelInfoRequest.getDefaultInstance());
            long tokens = serve(channel, info);
            String metrics = scrape(managementPort);
            ProcessMemory memory = ProcessMemory.of(server.pid());
            return new ServedMemory(server.pid(), weightBytes(settings.modelDir()),
                    info.getKvCapacityTokens() * info.getKvBytesPerToken(),
                    PrometheusText.sum(metrics, "jvm_memory_used_bytes", "area=\"heap\""),
                    PrometheusText.sum(metrics, "jvm_memory_committed_bytes", "area=\"heap\""),
                    PrometheusText.sum(metrics, "jvm_memory_max_bytes", "area=\"heap\""),
                    PrometheusText.sum(metrics, "jvm_memory_used_bytes", "area=\"nonheap\""),
                    memory, settings.requests(), tokens);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            stop(server);
        }
    }

    private void awaitServing(ManagedChannel channel, Process server) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + settings.loadTimeout().toNanos();
        var health = HealthGrpc.newBlockingStub(channel);
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) {
                throw new IllegalStateException("the server exited with " + server.exitValue() + " before SERVING:\n"
                        + tail(settings.log()));
            }
            try {
                if (health.withDeadlineAfter(2, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
                        .getStatus() == ServingStatus.SERVING) {
                    return;
                }
            } catch (StatusRuntimeException notUpYet) {
                // the port is not open yet
            }
            Thread.sleep(POLL);
        }
        throw new IllegalStateException("the server was not SERVING within " + settings.loadTimeout() + ":\n"
                + tail(settings.log()));
    }

    /** The requests, one after another; each prompt is distinct so no request is a prefix-cache hit of another. */
    private long serve(ManagedChannel channel, ModelInfo info) {
        var stub = NemotronGrpc.newBlockingStub(channel);
        long generated = 0;
        for (int r = 0; r < settings.requests(); r++) {
            int first = 1 + r;
            int vocab = info.getVocabSize();
            TokenIds.Builder ids = TokenIds.newBuilder();
            IntStream.range(0, settings.promptLen()).forEach(i -> ids.addIds((first + 7 * i) % vocab));
            var responses = stub.withDeadlineAfter(10, TimeUnit.MINUTES).generate(GenerateRequest.newBuilder()
                    .setTokenIds(ids).setMaxTokens(settings.maxTokens()).setIgnoreEos(true)
                    .setSampling(Sampling.newBuilder().setTemperature(0)).build());
            while (responses.hasNext()) {
                generated += responses.next().getDelta().getTokenIdsCount();
            }
        }
        progress.accept("served " + settings.requests() + " requests, " + generated + " tokens");
        return generated;
    }

    private static String scrape(int managementPort) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + managementPort + "/actuator/prometheus"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("/actuator/prometheus answered " + r.statusCode());
            }
            return r.body();
        }
    }

    /** SIGTERM (the server drains and exits), then SIGKILL if it has not exited within a minute. */
    private static void stop(Process server) throws InterruptedException {
        server.destroy();
        if (!server.waitFor(60, TimeUnit.SECONDS)) {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }
}
