package io.nemotron.service.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.nemotron.api.v1.ChatFinal;
import io.nemotron.api.v1.FinishReason;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GenerateResponse;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.ModelInfo;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Sampling;
import io.nemotron.api.v1.TokenIds;
import io.nemotron.api.v1.TokenLogprob;
import io.nemotron.core.backend.cuda.MemoryPlan;
import io.nemotron.core.backend.cuda.MemoryPlanner;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.service.admission.RetryHint;
import io.nemotron.service.cli.LauncherIT.Result;
import io.nemotron.service.deploy.HelmChartTest;
import io.nemotron.service.testing.Prerequisites;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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

    /**
     * The TP 8 against TP 1 comparison: 48 greedy steps of the demo model after these 12 ids (about 4 s of decoding
     * at TP 8 on the emulator), a prompt after which its output varies rather than repeating one id. Its random
     * weights give nearly flat logits: the F32 CPU run's top1-top2 margins are mostly 0.01 to 0.2 (0.010 at step 0,
     * 0.009 at step 14, 0.0005 at step 29), so BF16 runs summed in another order may part at a near tie and no
     * exact id list can be asked for. Measured here: both follow the same 14 ids, with chosen-token
     * log-probabilities at most 0.014 apart, and part at step 14 (where TP 8 takes the F32 run's id and TP 1 its
     * runner-up). The tolerance leaves 3.5 times that; a wrongly sharded layer moves them by far more.
     */
    private static final int[] GREEDY_PROMPT = {1, 101, 202, 303, 404, 505, 606, 707, 808, 909, 1010, 1111};
    private static final int GREEDY_TOKENS = 48;
    private static final double LOGPROB_TOLERANCE = 0.05;

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
        PythonGrpcClient client = PythonGrpcClient.required(Files.createDirectories(tmp.resolve("python")));
        int port = freePort();
        int management = freePort();
        try (Server server = Server.start(tmp.resolve("server.log"), tmp.resolve("cache"), "serve", "--backend",
                "cuda", "--port", Integer.toString(port), "--management-port", Integer.toString(management))) {
            server.check(() -> {
                ModelInfo info = server.awaitServing();
                assertThat(info.getTensorParallelSize()).isEqualTo(1);
                answersThePythonClientAndFreesEveryKvBlock(client, port, management);
                return null;
            });
        }
    }

    /**
     * The chart's main deployment on the emulator: {@code serve} with the flags helm/nemotron-serve's Deployment
     * renders from its default values ({@code --backend cuda --tensor-parallel 8}, {@code --config} with its
     * ConfigMap's application.yaml), rendered here by helm-java as HelmChartTest renders it, with two changes only:
     * free ports ({@code service.grpcPort}, {@code service.httpPort}, {@code service.managementPort}) and the demo
     * model ({@code model.demo}, the chart's own switch for it) instead of the PVC at /models/current. The 8 ranks
     * run on 8 emulated devices over the emulated NCCL. The Python client's scenarios pass and every KV block comes back (the emulated demo
     * model decodes about 14 tokens/s at TP 8, so the 2,000-token cancel and deadline streams could not finish
     * within the KV check's 20 s), and greedy decoding at TP 8 goes as at TP 1: a later start of the same command
     * line with {@code --tensor-parallel 1} (see {@link #decodeAlike}).
     *
     * <p>CUDA graphs: the chart leaves them at their default, on, so its command line runs decode steps as graphs. A
     * second start adds {@code --cuda-graphs off} and must pass the same client scenarios with exactly the same greedy
     * ids and log-probabilities: a one-sequence decode step replays a graph of one row, the same kernels and GEMM
     * shapes as the eager step, and its one split-KV partition is computed exactly as the unsplit attention (the
     * reduce over one partition multiplies by 2^0 = 1), so nothing may differ, not even by rounding.
     */
    @Test
    void helmChartDefaultsServeTensorParallel8OnTheEmulator() throws Exception {
        requireEmulator();
        PythonGrpcClient client = PythonGrpcClient.required(Files.createDirectories(tmp.resolve("python")));
        int port = freePort();
        int management = freePort();
        int http = freePort();
        HelmChartTest.Rendered chart = HelmChartTest.render(HelmChartTest.DEFAULT_VALUES, "model.demo", true,
                "service.grpcPort", port, "service.managementPort", management, "service.httpPort", http);
        List<String> args = new ArrayList<>(chart.args());
        assertThat(args).as("the chart's default command line")
                .containsSequence("--backend", "cuda").containsSequence("--tensor-parallel", "8")
                .containsSequence("--model", "demo").containsSequence("--port", Integer.toString(port))
                .containsSequence("--http-port", Integer.toString(http))
                .containsSequence("--management-port", Integer.toString(management)).contains("--config");
        // the ConfigMap's application.yaml where the pod mounts it: here a file of the same content
        Path config = Files.writeString(tmp.resolve("application.yaml"), chart.configYaml());
        args.set(args.indexOf("--config") + 1, config.toString());
        args.addFirst("serve"); // the image's entry point is `nemotron serve`

        assertThat(args).as("the chart keeps CUDA graphs at their default (on)").doesNotContain("--cuda-graphs");
        List<TokenLogprob> tp8 = servesAtTensorParallel8(client, port, management, args, "tp8.log", "on");
        List<String> eager = new ArrayList<>(args);
        eager.addAll(List.of("--cuda-graphs", "off"));
        List<TokenLogprob> tp8Eager = servesAtTensorParallel8(client, port, management, eager, "tp8-eager.log", "off");
        assertThat(tp8Eager).as("greedy ids and log-probabilities at TP 8, CUDA graphs off against on").isEqualTo(tp8);
        args.set(args.indexOf("--tensor-parallel") + 1, "1");
        try (Server server = Server.start(tmp.resolve("tp1.log"), tmp.resolve("cache"), args)) {
            server.check(() -> {
                assertThat(server.awaitServing().getTensorParallelSize()).isEqualTo(1);
                decodeAlike(server.greedy(GREEDY_PROMPT, GREEDY_TOKENS), tp8);
                return null;
            });
        }
    }

    /** Serves {@code args} (TP 8, CUDA graphs {@code graphs}) to the Python client; then greedy steps by Java gRPC. */
    private List<TokenLogprob> servesAtTensorParallel8(PythonGrpcClient client, int port, int management,
                                                       List<String> args, String log, String graphs) throws Exception {
        try (Server server = Server.start(tmp.resolve(log), tmp.resolve("cache"), args)) {
            return server.check(() -> {
                ModelInfo info = server.awaitServing();
                assertThat(info.getTensorParallelSize()).isEqualTo(8);
                assertThat(Files.readString(server.log())).contains("CUDA graphs " + graphs);
                answersThePythonClientAndFreesEveryKvBlock(client, port, management);
                return server.greedy(GREEDY_PROMPT, GREEDY_TOKENS);
            });
        }
    }

    /**
     * Greedy decoding at TP 8 is TP 1's: the same ids at the same log-probabilities (within {@link #LOGPROB_TOLERANCE})
     * for as long as both follow the same ids; and if they part, it is at a near tie, each run's pick being the other's
     * runner-up at that run's log-probability.
     */
    private static void decodeAlike(List<TokenLogprob> tp1, List<TokenLogprob> tp8) {
        assertThat(tp8).hasSameSizeAs(tp1);
        int step = 0;
        for (; step < tp1.size(); step++) {
            TokenLogprob a = tp1.get(step);
            TokenLogprob b = tp8.get(step);
            assertThat(a.getTop(0).getTokenId()).as("TP 1 step %d: greedy takes the most likely", step)
                    .isEqualTo(a.getTokenId());
            assertThat(b.getTop(0).getTokenId()).as("TP 8 step %d: greedy takes the most likely", step)
                    .isEqualTo(b.getTokenId());
            if (a.getTokenId() != b.getTokenId()) {
                break;
            }
            assertThat((double) b.getLogprob()).as("step %d, id %d: TP 8's log-probability against TP 1's", step,
                    a.getTokenId()).isCloseTo(a.getLogprob(), within(LOGPROB_TOLERANCE));
        }
        if (step < tp1.size()) {
            TokenLogprob a = tp1.get(step);
            TokenLogprob b = tp8.get(step);
            String where = "step " + step + ", where TP 1 took " + a.getTokenId() + " and TP 8 " + b.getTokenId();
            assertThat(b.getTokenId()).as(where + ": TP 1's runner-up").isEqualTo(a.getTop(1).getTokenId());
            assertThat(a.getTokenId()).as(where + ": TP 8's runner-up").isEqualTo(b.getTop(1).getTokenId());
            assertThat((double) b.getLogprob()).as(where)
                    .isCloseTo(a.getTop(1).getLogprob(), within(LOGPROB_TOLERANCE));
            assertThat((double) a.getLogprob()).as(where)
                    .isCloseTo(b.getTop(1).getLogprob(), within(LOGPROB_TOLERANCE));
        }
    }

    /** Python client's scenarios against {@code port}; then every KV block is free, per /actuator/prometheus. */
    private static void answersThePythonClientAndFreesEveryKvBlock(PythonGrpcClient client, int port, int management)
            throws IOException, InterruptedException {
        JsonNode r = client.scenarios(port, 180, 2000);
        PythonGrpcClient.assertScenariosPassed(r);

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
    }

    // ---- the memory plan: inspect, the planner and the start-up log (issue 16) ---------------------------------------

    /**
     * {@code inspect --backend cuda --tensor-parallel 2} on nemotron-nas-tiny, on emulated devices of 4 GiB: each
     * rank's plan is against the memory its device reports and equals MemoryPlanner's for that memory; hand-checked:
     * the device size (the variable's 4 GiB), the budget floor(0.9 x 4 GiB) = 3,865,470,566 bytes, a KV block of 16
     * tokens x K and V x 2 bytes x head_dim 16 x (2 + 1 + 1) kv heads per rank (layers with 4, 2 and 1 kv heads; one is
     * replicated when fewer than ranks) = 4,096 bytes, and the pool takes the whole blocks of what the budget leaves.
     */
    @Test
    void inspectOnTheEmulatorPrintsEachRanksPlannerPlanOnTheReportedMemory() throws Exception {
        requireEmulator();
        Path tiny = CliRun.reference("nemotron-nas-tiny/nas-tiny-a-bf16");
        Result r = LauncherIT.nemotron(Map.of("NEMOTRON_CUDA_EMULATOR", "1", "NEMOTRON_CUDA_EMULATOR_MEMORY", "4G"), null,
                "inspect", "--config", tiny.toString(), "--backend", "cuda", "--tensor-parallel", "2", "--output", "json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = JSON.readTree(r.out());
        long device = 4L << 30;
        MemoryPlan plan = MemoryPlanner.forModel(ModelConfigLoader.load(tiny)).tensorParallel(2).deviceMemory(device)
                .maxRows(2048).maxSeqs(256).plan();
        assertThat(json.get("ranks")).hasSize(2);
        for (int rank = 0; rank < 2; rank++) {
            JsonNode p = json.get("ranks").get(rank);
            assertThat(p.get("rank").asInt()).isEqualTo(rank);
            assertThat(p.get("device").asInt()).isEqualTo(rank);
            assertThat(p.get("device_name").asString()).endsWith("(emulated)");
            assertThat(p.get("total_bytes").asLong()).isEqualTo(device);
            assertThat(p.get("free_bytes").asLong()).as("nothing allocated by inspect").isEqualTo(device);
            assertThat(p.get("budget_bytes").asLong()).isEqualTo(3_865_470_566L).isEqualTo(plan.budgetBytes());
            assertThat(p.get("kv_bytes_per_block").asLong()).isEqualTo(4096).isEqualTo(plan.kvBytesPerBlock());
            assertThat(p.get("weight_bytes").asLong()).isEqualTo(plan.weightBytes())
                    .isEqualTo(json.get("per_rank_weight_bytes").asLong());
            assertThat(p.get("workspace_bytes").asLong()).isEqualTo(plan.workspace().total());
            assertThat(p.get("activation_bytes").asLong()).isEqualTo(plan.workspace().activationBytes());
            assertThat(p.get("runtime_reserve_bytes").asLong()).isEqualTo(1L << 30);
            long left = 3_865_470_566L - p.get("weight_bytes").asLong() - p.get("workspace_bytes").asLong() - (1L << 30);
            assertThat(p.get("kv_blocks").asLong()).isEqualTo(left / 4096).isEqualTo(plan.kvBlocks());
            assertThat(p.get("kv_bytes").asLong()).isEqualTo(left / 4096 * 4096);
            assertThat(p.get("kv_tokens").asLong()).isEqualTo(left / 4096 * 16);
        }
        assertThat(json.get("kv_blocks").asLong()).isEqualTo(plan.kvBlocks());
    }

    /**
     * {@code serve --backend cuda --tensor-parallel 2} logs one memory-plan line per rank at start-up, and
     * {@code inspect --backend cuda} with the server's step sizes (application.yaml: 512 rows, 64 sequences) prints the
     * same lines for its checkpoint; only the free memory differs, read by the server after the weights were uploaded.
     */
    @Test
    void theStartupLogsMemoryPlanIsInspects() throws Exception {
        requireEmulator();
        int port = freePort();
        Path cache = tmp.resolve("cache");
        Path log = tmp.resolve("plan.log");
        List<String> logged;
        try (Server server = Server.start(log, cache, "serve", "--backend", "cuda", "--tensor-parallel", "2", "--port",
                Integer.toString(port), "--management-port", Integer.toString(freePort()))) {
            logged = server.check(() -> {
                server.awaitServing();
                return planLines(Files.readString(log));
            });
        }
        Result r = LauncherIT.nemotron(EMULATOR, null, "inspect", "--config", cache.resolve("checkpoint").toString(),
                "--backend", "cuda", "--tensor-parallel", "2", "--max-num-batched-tokens", "512", "--max-num-seqs", "64");
        assertEquals(0, r.code(), r.err());
        List<String> inspected = planLines(r.out());
        assertThat(logged).as("the start-up log's plan").hasSize(2);
        assertThat(inspected).as("inspect's plan").hasSize(2);
        for (int rank = 0; rank < 2; rank++) {
            String[] atStart = logged.get(rank).split("; free now ");
            String[] byInspect = inspected.get(rank).split("; free now ");
            assertThat(atStart[0]).as("rank %d", rank).startsWith("memory plan, rank " + rank + " of 2 on GPU " + rank)
                    .isEqualTo(byInspect[0]);
            long total = Long.parseLong(atStart[0].replaceAll(".*: device (\\d+) bytes, .*", "$1"));
            assertThat(Long.parseLong(byInspect[1].replace(" bytes", ""))).as("free before a model").isEqualTo(total);
            assertThat(Long.parseLong(atStart[1].replace(" bytes", ""))).as("free after the weights").isLessThan(total);
        }
    }

    /** The memory-plan lines of a log or of inspect's output, from "memory plan, rank" to the end of the line. */
    private static List<String> planLines(String text) {
        return text.lines().filter(l -> l.contains("memory plan, rank "))
                .map(l -> l.substring(l.indexOf("memory plan, rank "))).toList();
    }

    // ---- device faults at service level (issue 16, "Faults") -------------------------------------------------------

    /** Requests of the fault scenario: the greedy prompt, this many tokens, each step one request's. */
    private static final int FAULT_REQUEST_TOKENS = 8;
    /** Faulted steps: 5 requests open the breaker (as in EngineCircuitBreakerTest), then 2 half-open probes fail. */
    private static final int FAULTED_STEPS = 7;
    /**
     * The burst starts at step 20 of the server's life: the warm-up (1 step: warmup-tokens 1) and two 8-token requests
     * run clean, the third request fails at its third step. Per step of the demo model at TP 2, rank 1 makes 64 kernel launches and 17
     * NCCL collectives (measured on the emulator by bisecting {@code skip} over a 1- and an 8-token generate: the
     * faults land at calls 64 and 512, 17 and 34); the offsets put the fault mid-step. The scenario only needs the
     * burst to start after the first clean request: a kernel change that moves it is absorbed (up to 40 requests are
     * sent before the burst must have begun; decode steps replayed from CUDA graphs would make no cuLaunchKernel
     * calls, so the launch burst would then land in a later request's prefill, still one fault per failed request).
     */
    private static final Map<String, String> FAULTS_AT_STEP_20 = Map.of(
            "launch", "launch:skip=" + (19 * 64 + 5) + ":count=" + FAULTED_STEPS + ":rank=1",
            "nccl", "nccl:skip=" + (19 * 17 + 3) + ":count=" + FAULTED_STEPS + ":rank=1");
    private static final Map<String, String> DEVICE_ERRORS = Map.of("launch", "CUDA_ERROR_LAUNCH_FAILED",
            "nccl", "ncclSystemError");

    /**
     * A burst of device faults on rank 1 of {@code serve --backend cuda --tensor-parallel 2} (emulator fault switches
     * armed by NEMOTRON_CUDA_EMULATOR_FAULTS: 7 failed kernel launches, or 7 NCCL errors, one per step from step 20)
     * behaves as EngineCircuitBreakerTest's CPU step faults, with its breaker settings: each faulted request ends with
     * INTERNAL naming the device error; the fifth opens the breaker and health turns NOT_SERVING; a request then fails
     * fast with UNAVAILABLE, "circuit breaker open" and the retry hint; the half-open probes take the last two faults
     * and the breaker opens again; the next probe closes it and health returns to SERVING. Afterwards greedy decoding
     * gives the ids of the fault-free requests before the burst, the Python client's scenarios pass and every KV
     * block is free. No rank hangs: every wait is bounded.
     */
    @ParameterizedTest(name = "{0} faults on rank 1")
    @ValueSource(strings = {"launch", "nccl"})
    void deviceFaultBurstAtTensorParallel2TripsTheBreakerAsCpuFaultsDoAndTheServerRecovers(String site)
            throws Exception {
        requireEmulator();
        PythonGrpcClient client = PythonGrpcClient.required(Files.createDirectories(tmp.resolve("python")));
        int port = freePort();
        int management = freePort();
        // EngineCircuitBreakerTest's settings, with 3 s open instead of 1.5 s: the emulated server answers slower
        // a 1-token warm-up (one step) keeps the step count below, on which the fault offsets rest
        Path config = Files.writeString(tmp.resolve("breaker.yaml"), """
                nemotron:
                  model:
                    warmup-tokens: 1
                  admission:
                    breaker:
                      minimum-number-of-calls: 5
                      sliding-window-size: 10
                      wait-duration-in-open-state: 3s
                      permitted-calls-in-half-open: 2
                """);
        List<String> args = List.of("serve", "--backend", "cuda", "--tensor-parallel", "2", "--port",
                Integer.toString(port), "--management-port", Integer.toString(management), "--config",
                config.toString());
        Path log = tmp.resolve(site + ".log");
        try (Server server = Server.start(log, tmp.resolve("cache"), args,
                Map.of("NEMOTRON_CUDA_EMULATOR_FAULTS", FAULTS_AT_STEP_20.get(site)))) {
            server.check(() -> {
                assertThat(server.awaitServing().getTensorParallelSize()).isEqualTo(2);
                var health = HealthGrpc.newBlockingStub(server.channel());
                var stub = NemotronGrpc.newBlockingStub(server.channel());

                // clean requests until the burst begins; each must give the first one's ids
                List<Integer> clean = null;
                int attempt = 0;
                StatusRuntimeException first = null;
                while (first == null) {
                    assertThat(attempt++).as("the burst began within 40 requests").isLessThan(40);
                    try {
                        List<Integer> ids = faultRequestIds(stub);
                        assertThat(ids).as("a clean request before the burst").hasSize(FAULT_REQUEST_TOKENS);
                        if (clean != null) {
                            assertThat(ids).as("greedy ids of clean request %d", attempt).isEqualTo(clean);
                        }
                        clean = ids;
                    } catch (StatusRuntimeException e) {
                        first = e;
                    }
                }
                assertThat(clean).as("a clean request ran before the burst").isNotNull();
                assertFailedByTheDevice(first, site);
                for (int i = 1; i < 5; i++) {
                    assertThatThrownBy(() -> faultRequestIds(stub)).isInstanceOfSatisfying(
                            StatusRuntimeException.class, e -> assertFailedByTheDevice(e, site));
                }
                // the fifth failed step opened the breaker: NOT_SERVING, and calls fail fast with the retry hint
                awaitHealth(health, ServingStatus.NOT_SERVING, 5);
                assertThatThrownBy(() -> faultRequestIds(stub)).isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                            assertThat(e.getStatus().getDescription()).contains("circuit breaker open");
                            assertThat(e.getTrailers().get(RetryHint.PUSHBACK)).isEqualTo("3000");
                        });
                // the half-open probes take the last two faults (the breaker opens again), then one closes it
                awaitHealth(health, ServingStatus.SERVING, 60);
                String out = Files.readString(log);
                assertThat(Pattern.compile("injected " + site + " fault on rank 1 ").matcher(out).results().count())
                        .as("faults taken").isEqualTo(FAULTED_STEPS);
                assertThat(Pattern.compile("engine circuit breaker: (\\w+)").matcher(out).results()
                        .map(m -> m.group(1)).toList())
                        .containsExactly("OPEN", "HALF_OPEN", "OPEN", "HALF_OPEN", "CLOSED");

                // every rank recovered: the clean requests' ids, the Python client, every KV block free
                assertThat(faultRequestIds(stub)).as("greedy ids after recovery").isEqualTo(clean);
                answersThePythonClientAndFreesEveryKvBlock(client, port, management);
                assertThat(faultRequestIds(stub)).as("greedy ids after the Python client").isEqualTo(clean);
                return null;
            });
        }
    }

    /** A malformed NEMOTRON_CUDA_EMULATOR_FAULTS stops the CUDA backend with one error line naming the bad field. */
    @Test
    void aMalformedFaultVariableIsOneErrorNamingTheField() throws Exception {
        requireEmulator();
        Map<String, String> env = Map.of("NEMOTRON_CUDA_EMULATOR", "1", "NEMOTRON_CUDA_EMULATOR_FAULTS",
                "launch:skip=2:count=x");
        Result r = LauncherIT.nemotron(env, null, "generate", "--model", CliRun.reference("stories260k/hf").toString(),
                "--prompt-ids", "1", "--max-tokens", "2", "--backend", "cuda");
        assertEquals(1, r.code(), r.out() + r.err());
        List<String> errors = r.err().lines().filter(l -> l.startsWith("error:")).toList();
        assertThat(errors).as(r.err()).hasSize(1);
        assertThat(errors.getFirst()).contains("NEMOTRON_CUDA_EMULATOR_FAULTS").contains("'count=x'");
        assertThat(r.err()).doesNotContain("\tat ");
    }

    /** The greedy ids of one fault-scenario request; a failure ends it with its gRPC status. */
    private static List<Integer> faultRequestIds(NemotronGrpc.NemotronBlockingStub stub) {
        GenerateRequest request = GenerateRequest.newBuilder()
                .setTokenIds(TokenIds.newBuilder().addAllIds(Arrays.stream(GREEDY_PROMPT).boxed().toList()))
                .setSampling(Sampling.newBuilder().setTemperature(0)).setMaxTokens(FAULT_REQUEST_TOKENS)
                .setIgnoreEos(true).build();
        List<Integer> ids = new ArrayList<>();
        var responses = stub.withDeadlineAfter(60, TimeUnit.SECONDS).generate(request);
        while (responses.hasNext()) {
            GenerateResponse r = responses.next();
            if (r.hasDelta()) {
                ids.addAll(r.getDelta().getTokenIdsList());
            }
        }
        return ids;
    }

    /** As a CPU step fault (EngineCircuitBreakerTest): INTERNAL, here naming the device error of {@code site}. */
    private static void assertFailedByTheDevice(StatusRuntimeException e, String site) {
        assertThat(e.getStatus().getCode()).as("%s", e.getStatus()).isEqualTo(Status.Code.INTERNAL);
        assertThat(e.getStatus().getDescription()).contains("EngineStepException").contains(DEVICE_ERRORS.get(site));
    }

    private static void awaitHealth(HealthGrpc.HealthBlockingStub health, ServingStatus expected, int seconds)
            throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        ServingStatus now;
        do {
            now = health.withDeadlineAfter(5, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.newBuilder().setService(NemotronGrpc.SERVICE_NAME).build()).getStatus();
            if (now == expected) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < until);
        throw new AssertionError("health is " + now + ", not " + expected + ", after " + seconds + " s");
    }

    /**
     * {@code ./nemotron ARGS} under the emulator, its output in {@code log}, with a channel to its {@code --port}.
     * The demo model (the default) is written into {@code cache}, not into the user's cache.
     */
    private record Server(Process process, Path log, ManagedChannel channel) implements AutoCloseable {
        static Server start(Path log, Path cache, String... args) throws IOException {
            return start(log, cache, List.of(args));
        }

        static Server start(Path log, Path cache, List<String> args) throws IOException {
            return start(log, cache, args, Map.of());
        }

        /** As {@link #start(Path, Path, List)}, with {@code env} added to the emulator's variable. */
        static Server start(Path log, Path cache, List<String> args, Map<String, String> env) throws IOException {
            int port = Integer.parseInt(args.get(args.indexOf("--port") + 1));
            List<String> command = new ArrayList<>(List.of(LauncherIT.root().resolve("nemotron").toString()));
            command.addAll(args);
            if (args.contains("serve") && !args.contains("--http-port")) {
                command.addAll(List.of("--http-port", "0")); // the HTTP API's default 8000 may be taken on this host
            }
            ProcessBuilder pb = new ProcessBuilder(command).directory(LauncherIT.root().toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().putAll(EMULATOR);
            pb.environment().putAll(env);
            pb.environment().put("NEMOTRON_CACHE_DIR", Files.createDirectories(cache).toString());
            Process process = pb.start();
            return new Server(process, log, Grpc.newChannelBuilderForAddress("127.0.0.1", port,
                    InsecureChannelCredentials.create()).build());
        }

        /** Waits for SERVING; the log names the emulated device; GetModelInfo says so too and that it is the demo. */
        ModelInfo awaitServing() throws InterruptedException, IOException {
            CudaEmulatorIT.awaitServing(process, channel);
            assertThat(Files.readString(log)).containsPattern("model .* ready in \\d+ ms on cuda \\(emulated\\)");
            ModelInfo info = NemotronGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .getModelInfo(GetModelInfoRequest.getDefaultInstance());
            assertThat(info.getBackend()).isEqualTo(EMULATED);
            assertThat(info.getRandomWeights()).isTrue();
            return info;
        }

        /**
         * {@code n} greedy steps after {@code prompt} (ids as they are, past EOS) by a Java gRPC Generate, each with
         * the log-probability of its id and of the runner-up.
         */
        List<TokenLogprob> greedy(int[] prompt, int n) {
            GenerateRequest request = GenerateRequest.newBuilder()
                    .setTokenIds(TokenIds.newBuilder().addAllIds(Arrays.stream(prompt).boxed().toList()))
                    .setSampling(Sampling.newBuilder().setTemperature(0)).setMaxTokens(n).setIgnoreEos(true)
                    .setLogprobs(true).setTopLogprobs(2).build();
            List<TokenLogprob> steps = new ArrayList<>();
            ChatFinal last = null;
            var responses = NemotronGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS)
                    .generate(request);
            while (responses.hasNext()) {
                GenerateResponse r = responses.next();
                if (r.hasDelta()) {
                    assertThat(r.getDelta().getLogprobsList().stream().map(TokenLogprob::getTokenId).toList())
                            .isEqualTo(r.getDelta().getTokenIdsList());
                    steps.addAll(r.getDelta().getLogprobsList());
                } else if (r.hasFinal()) {
                    last = r.getFinal();
                }
            }
            assertThat(last).as("Generate ends with its final event").isNotNull();
            assertThat(last.getFinishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(steps).hasSize(n).allSatisfy(s -> assertThat(s.getTopCount()).isEqualTo(2));
            return steps;
        }

        /** Runs {@code checks}; a failure carries the tail of the server's output. */
        <T> T check(Checks<T> checks) throws Exception {
            try {
                return checks.run();
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(e.getMessage() + "\n--- server output (tail) ---\n" + tail(log), e);
            }
        }

        @Override
        public void close() throws InterruptedException {
            channel.shutdownNow();
            // the launcher execs java, so this is the server (a child only while the launcher rebuilds the jar)
            List<ProcessHandle> children = process.descendants().toList();
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            children.forEach(ProcessHandle::destroyForcibly);
        }
    }

    @FunctionalInterface
    private interface Checks<T> {
        T run() throws Exception;
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
        Prerequisites.require(Files.isRegularFile(lib.resolve("libcuda.so.1")), "the CUDA emulator is not built (" + lib
                + "/libcuda.so.1 missing" + (Files.isRegularFile(missing) ? ": " + Files.readString(missing) : "")
                + "); ./nemotron build builds it with g++ and the CUDA headers");
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
