package io.nemotron.service.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.ModelInfo;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.service.cli.LauncherIT.Result;
import io.nemotron.service.testing.PythonGrpcClient;
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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CUDA backend on the host emulator of CUDA, cuBLAS and NCCL, through the real {@code ./nemotron} launcher as a
 * user runs it ({@code NEMOTRON_CUDA_EMULATOR=1}): greedy generation reproduces the references, the server answers
 * the independent Python client and gives every KV block back, and without the variable the launcher never picks the
 * emulator. Runs in the {@code slow} profile through failsafe. A missing emulator or Python client is skipped with the
 * reason, except under {@code CI=true}, where every end-to-end check must run: there it fails.
 */
class CudaEmulatorIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Map<String, String> EMULATOR = Map.of("NEMOTRON_CUDA_EMULATOR", "1");
    private static final String EMULATED = "cuda (emulated)";

    /**
     * stories260K ids compared per case. The checkpoint is F32: the GPU holds its BF16 rounding and keeps BF16
     * activations, which move its logits by up to 0.25 against FP32 (measured in CudaBackendGpuTest). Over the first
     * 60 generated ids of every case the reference's smallest top1-top2 logit margin is 0.071 (step 57 after "Once
     * upon a time"; 0.133 after BOS alone) and the emulated run follows them all. Further on it falls to 0.0042 (step
     * 185 of the 200- and 256-token llama2.c cases), which BF16 noise flips: there the emulated run departs, as BF16
     * may. (Margins from a float64 forward pass of hf/ that reproduces every reference id.)
     */
    private static final int STORIES_COMPARED = 60;

    @TempDir
    Path tmp;

    @Test
    void generateReproducesStories260kOnTheEmulator() throws Exception {
        requireEmulator();
        JsonNode cases = JSON.readTree(Files.readString(CliRun.reference("stories260k/expected.json"))).get("cases");
        // the four cases share two prompts: one run per prompt
        Map<String, int[]> runs = new LinkedHashMap<>();
        for (JsonNode c : cases) {
            int[] prompt = LauncherIT.ints(c.get("prompt_ids"));
            int[] expected = Arrays.copyOf(LauncherIT.ints(c.get("generated_ids")), STORIES_COMPARED);
            int[] ids = runs.computeIfAbsent(Arrays.toString(prompt),
                    k -> emulatedGreedy(CliRun.reference("stories260k/hf"), prompt, STORIES_COMPARED));
            assertArrayEquals(expected, ids, c.get("name").asString() + ": first " + STORIES_COMPARED + " ids");
        }
        assertEquals(2, runs.size());
    }

    /**
     * nemotron-nas-tiny, all 24 greedy ids of both cases, F32 and BF16. The F32 checkpoint is uploaded as its BF16
     * rounding, which is exactly the shipped BF16 checkpoint (DeviceWeightsTest): both runs compute the same thing and
     * must give the same ids, and the BF16 reference (float64 on those rounded weights) has the F32 reference's ids,
     * so the F32 run is held to all 24 as well. Min top1-top2 margins: 0.058 and 0.177 (BF16 reference), 0.092 and
     * 0.171 (F32); BF16 activations move nas-tiny's logits by up to 0.12 (CudaBackendGpuTest), so the first case's
     * 0.058 is no proof on its own, but the emulated run follows all 24 ids, as the GPU runs there do.
     */
    @Test
    void generateReproducesNemotronNasTinyF32AndBf16OnTheEmulator() throws Exception {
        requireEmulator();
        Path f32 = CliRun.reference("nemotron-nas-tiny/nas-tiny-a-f32");
        Path bf16 = CliRun.reference("nemotron-nas-tiny/nas-tiny-a-bf16");
        JsonNode f32Cases = JSON.readTree(Files.readString(f32.resolve("expected.json"))).get("cases");
        JsonNode bf16Cases = JSON.readTree(Files.readString(bf16.resolve("expected.json"))).get("cases");
        assertEquals(2, f32Cases.size());
        for (int i = 0; i < f32Cases.size(); i++) {
            JsonNode c = bf16Cases.get(i);
            int[] prompt = LauncherIT.ints(c.get("prompt_ids"));
            int[] expected = LauncherIT.ints(c.get("greedy_output_ids"));
            assertEquals(24, expected.length);
            assertArrayEquals(LauncherIT.ints(f32Cases.get(i).get("prompt_ids")), prompt, "same prompts");
            assertArrayEquals(LauncherIT.ints(f32Cases.get(i).get("greedy_output_ids")), expected,
                    "the BF16 rounding keeps the F32 reference's greedy ids");
            String margins = "reference min top1-top2 margin " + c.get("min_top1_top2_margin").asDouble() + " (BF16), "
                    + f32Cases.get(i).get("min_top1_top2_margin").asDouble() + " (F32)";
            int[] fromBf16 = emulatedGreedy(bf16, prompt, expected.length);
            assertArrayEquals(expected, fromBf16, "nas-tiny BF16, case " + i + "; " + margins);
            int[] fromF32 = emulatedGreedy(f32, prompt, expected.length);
            assertArrayEquals(fromBf16, fromF32, "nas-tiny F32 uploads as the BF16 checkpoint, case " + i);
        }
    }

    @Test
    void withoutTheVariableCudaNeverFallsBackToTheEmulator() throws Exception {
        // the emulator's folder off the library path too, in case the caller's environment has it
        String libraryPath = Arrays.stream(System.getenv().getOrDefault("LD_LIBRARY_PATH", "").split(":"))
                .filter(d -> !d.isEmpty() && !d.contains("cuda-kernels/target/emulator"))
                .collect(Collectors.joining(":"));
        Result r = LauncherIT.nemotron(Map.of("NEMOTRON_CUDA_EMULATOR", "", "LD_LIBRARY_PATH", libraryPath), null,
                "generate", "--model", CliRun.reference("stories260k/hf").toString(), "--prompt-ids", "1",
                "--max-tokens", "4", "--temperature", "0", "--output", "json", "--backend", "cuda", "--stats");
        if (Files.exists(Path.of("/dev/nvidiactl"))) {
            // a machine with an NVIDIA driver: the real device runs it
            assertEquals(0, r.code(), r.err());
            assertThat(r.err()).contains("backend cuda; ").doesNotContain(EMULATED);
            return;
        }
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> errors = r.err().lines().filter(l -> l.startsWith("error:")).toList();
        assertThat(errors).as(r.err()).hasSize(1);
        // JCuda's driver binding loads libcuda.so.1, the NVIDIA driver's library, which this machine lacks
        assertThat(errors.getFirst()).contains("--backend cuda").contains("libcuda");
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain(EMULATED);
        assertThat(r.out()).isEmpty();
    }

    /**
     * {@code serve --backend cuda} on the emulator with the demo model, driven by the Python client as
     * PythonClientIT drives the in-process server. The client's cancel and deadline streams ask for 2,000 tokens:
     * the emulated demo model decodes about 30 tokens/s here, so they would run for a minute, well past the 1 s
     * deadline and past the 20 s the KV check waits: blocks found free were given back by the cancels, not by
     * streams that finished.
     */
    @Test
    void serveOnTheEmulatorAnswersThePythonClientAndFreesEveryKvBlock() throws Exception {
        requireEmulator();
        String missing = PythonGrpcClient.missing();
        require(missing == null, missing);
        PythonGrpcClient client = PythonGrpcClient.generate(Files.createDirectories(tmp.resolve("python")));

        int port = freePort();
        int management = freePort();
        Path log = tmp.resolve("server.log");
        ProcessBuilder pb = new ProcessBuilder(LauncherIT.root().resolve("nemotron").toString(), "serve", "--backend",
                "cuda", "--port", Integer.toString(port), "--management-port", Integer.toString(management))
                .directory(LauncherIT.root().toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(EMULATOR);
        // the demo model (the default) is written here, not into the user's cache
        pb.environment().put("NEMOTRON_CACHE_DIR", Files.createDirectories(tmp.resolve("cache")).toString());
        Process server = pb.start();
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port,
                InsecureChannelCredentials.create()).build();
        try {
            awaitServing(server, channel);
            assertThat(Files.readString(log)).containsPattern("model .* ready in \\d+ ms on cuda \\(emulated\\)");
            ModelInfo info = NemotronGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .getModelInfo(GetModelInfoRequest.getDefaultInstance());
            assertThat(info.getBackend()).isEqualTo(EMULATED);
            assertThat(info.getRandomWeights()).isTrue();

            JsonNode r = client.scenarios(port, 180, 2000);
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

            // the cancelled and expired requests leave the batch and give their KV blocks back, asynchronously
            String url = "http://127.0.0.1:" + management + "/actuator/prometheus";
            Map<String, Double> kv;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            do {
                kv = gauges(get(url), "nemotron_kv_cache_free_blocks", "nemotron_kv_cache_capacity_blocks",
                        "nemotron_num_requests_running", "nemotron_num_requests_waiting");
                if (kv.get("nemotron_kv_cache_free_blocks").equals(kv.get("nemotron_kv_cache_capacity_blocks"))
                        && kv.get("nemotron_num_requests_running") + kv.get("nemotron_num_requests_waiting") == 0) {
                    break;
                }
                Thread.sleep(200);
            } while (System.nanoTime() < until);
            assertThat(kv.get("nemotron_kv_cache_capacity_blocks")).as("%s", kv).isPositive();
            assertThat(kv.get("nemotron_kv_cache_free_blocks")).as("%s", kv)
                    .isEqualTo(kv.get("nemotron_kv_cache_capacity_blocks"));
            assertThat(kv.get("nemotron_num_requests_running") + kv.get("nemotron_num_requests_waiting"))
                    .as("%s", kv).isZero();
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(e.getMessage() + "\n--- server output (tail) ---\n" + tail(log), e);
        } finally {
            channel.shutdownNow();
            // the launcher execs java, so this is the server (a child only while the launcher rebuilds the jar)
            List<ProcessHandle> children = server.descendants().toList();
            server.destroy();
            if (!server.waitFor(20, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            children.forEach(ProcessHandle::destroyForcibly);
        }
    }

    /** Health says SERVING (the model loaded and warmed up) within 3 minutes, while the process lives. */
    private static void awaitServing(Process server, ManagedChannel channel) throws InterruptedException {
        var health = HealthGrpc.newBlockingStub(channel);
        long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < until) {
            if (!server.isAlive()) {
                throw new AssertionError("the server exited with " + server.exitValue() + " before serving");
            }
            try {
                if (health.withDeadlineAfter(5, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
                        .getStatus() == ServingStatus.SERVING) {
                    return;
                }
            } catch (StatusRuntimeException notYet) {
                // not listening yet, or the model still loading
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the server did not report SERVING within 3 minutes");
    }

    /** The first {@code n} greedy ids of {@code model} after {@code prompt}, generated on the emulated GPU. */
    private static int[] emulatedGreedy(Path model, int[] prompt, int n) {
        String ids = Arrays.stream(prompt).mapToObj(Integer::toString).collect(Collectors.joining(","));
        try {
            Result r = LauncherIT.nemotron(EMULATOR, null, "generate", "--model", model.toString(), "--prompt-ids", ids,
                    "--max-tokens", Integer.toString(n), "--temperature", "0", "--ignore-eos", "--output", "json",
                    "--backend", "cuda", "--stats");
            assertEquals(0, r.code(), r.err());
            assertThat(r.err()).as("--stats").contains("backend " + EMULATED + "; prompt " + prompt.length + " tokens");
            JsonNode json;
            try {
                json = JSON.readTree(r.out());
            } catch (JacksonException e) {
                throw new AssertionError("--output json: stdout is not one JSON object: " + e.getOriginalMessage()
                        + "\n" + r.out().substring(0, Math.min(r.out().length(), 2000)), e);
            }
            assertArrayEquals(prompt, LauncherIT.ints(json.get("prompt_ids")));
            return LauncherIT.ints(json.get("output_ids"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The emulator's libraries, built by cuda-kernels (build-emulator.sh), or why they are not. */
    private static void requireEmulator() throws IOException {
        Path lib = LauncherIT.root().resolve("cuda-kernels/target/emulator/lib");
        Path missing = lib.resolve("MISSING");
        require(Files.isRegularFile(lib.resolve("libcuda.so.1")), "the CUDA emulator is not built (" + lib
                + "/libcuda.so.1 missing" + (Files.isRegularFile(missing) ? ": " + Files.readString(missing) : "")
                + "); ./nemotron build builds it with g++ and the CUDA headers");
    }

    /** Skipped with the reason where a prerequisite is missing; under CI=true every end-to-end check must run. */
    private static void require(boolean present, String why) {
        if (present) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(why + " (CI=true: a missing prerequisite fails this test instead of skipping it)");
        }
        Assumptions.abort(why);
    }

    /** The values of the unlabelled series {@code names} in a Prometheus exposition (each must be there). */
    private static Map<String, Double> gauges(String exposition, String... names) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String name : names) {
            Matcher m = Pattern.compile("^" + name + " (\\S+)$", Pattern.MULTILINE).matcher(exposition);
            assertThat(m.find()).as("/actuator/prometheus exposes %s", name).isTrue();
            out.put(name, Double.parseDouble(m.group(1)));
        }
        return out;
    }

    private static String get(String url) throws IOException, InterruptedException {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("GET %s", url).isEqualTo(200);
            return r.body();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path log) {
        try {
            String text = Files.readString(log);
            return text.substring(Math.max(0, text.length() - 6000));
        } catch (IOException e) {
            return "(" + log + " unreadable: " + e + ")";
        }
    }
}
