package io.nemotron.service.cli;

import io.nemotron.core.bench.StepProfileBenchmark;
import io.nemotron.core.bench.StepThreadBenchmark;
import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.runtime.KvCacheChoice;
import io.nemotron.core.runtime.LoadedModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The forward pass alone, per batch size, with the time of every backend op: where a decode step goes. */
@Command(name = "step", mixinStandardHelpOptions = true,
        description = "Decode-step time of the forward pass alone per batch size, split by backend op.")
final class BenchStepCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|demo")
    String model;

    @Option(names = "--batch", split = ",", defaultValue = "1,16")
    List<Integer> batches;

    @Option(names = "--context", defaultValue = "80", description = "tokens already in each sequence's KV cache")
    int context;

    @Option(names = "--steps", defaultValue = "1000", description = "measured steps per batch size")
    int steps;

    @Option(names = "--warmup-steps", defaultValue = "500")
    int warmupSteps;

    @Option(names = "--rounds", defaultValue = "2", description = "measure every batch size this many times, "
            + "interleaved; the fastest round of each is reported")
    int rounds;

    @Option(names = "--threads", description = "compute threads (default: available cores)")
    Integer threads;

    @Option(names = "--kv-cache-dtype", split = ",", defaultValue = "auto", paramLabel = "auto|fp32|bf16|fp8",
            description = "KV cache dtype; a list (fp32,bf16,fp8) measures each side by side in one run, interleaved "
                    + "(--engine takes one)")
    List<String> kvCacheDtypes;

    @Option(names = "--engine", description = "run each batch as that many concurrent requests through the engine "
            + "(the model's tokenizer, stop strings) and report the step thread's own time per decode step "
            + "(from one forward pass's end to the next one's start); --context is then the prompt length")
    boolean engine;

    @Option(names = "--gen-len", defaultValue = "128", description = "with --engine: tokens generated per request")
    int genLen;

    @Option(names = "--temperature", defaultValue = "0", description = "with --engine: 0 is greedy")
    float temperature;

    @Option(names = "--top-p", defaultValue = "1", description = "with --engine and a temperature > 0")
    float topP;

    @Option(names = "--service-listener", description = "with --engine: every request's events also go through the "
            + "service's Chat call (thinking on: <think> split, response messages, the response stream's writer "
            + "threads) to an always-ready client that discards them")
    boolean serviceListener;

    @Mixin
    OutputFormat format;

    @Mixin
    WeightCacheFlags weightCache;

    @Override
    public Integer call() throws InterruptedException {
        boolean asJson = format.json();
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
        }
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        int maxBatch = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
        List<KvCacheChoice> kvChoices = kvCacheDtypes.stream()
                .map(t -> KvCacheChoice.parse(t, "--kv-cache-dtype")).toList();
        if (engine) {
            if (kvChoices.size() != 1) {
                throw new IllegalArgumentException("--kv-cache-dtype: --engine takes one dtype, got " + kvCacheDtypes);
            }
            return callEngine(nThreads, maxBatch, kvChoices.get(0));
        }
        // one model per KV dtype, measured in interleaved rounds so that drifts of the machine hit each alike
        List<StepProfileBenchmark.Result> best = new ArrayList<>();
        List<LoadedModel> models = new ArrayList<>();
        List<LoadProgressDisplay> loads = new ArrayList<>();
        try {
            for (KvCacheChoice kv : kvChoices) {
                Path dir = ModelPaths.resolve(model);
                loads.add(LoadProgressDisplay.show(model, spec.commandLine().getErr()));
                models.add(LoadedModel.openCpu(dir, nThreads, Math.max(maxBatch, 16), 1, kv,
                        loads.getLast().progress(), weightCache.options()));
            }
            List<StepProfileBenchmark> benches = models.stream().map(StepProfileBenchmark::new).toList();
            for (int round = 0; round < rounds; round++) {
                int i = 0;
                for (StepProfileBenchmark bench : benches) {
                    for (int batch : batches) {
                        StepProfileBenchmark.Result r = bench.run(batch, context, warmupSteps, steps);
                        spec.commandLine().getErr().printf("round %d batch %3d kv %s: %.3f ms/step, %.1f tok/s, "
                                + "attention %.3f ms%n", round + 1, r.batch(), r.kvCache(), r.stepMillis(),
                                r.tokensPerSecond(), r.attentionMillis());
                        spec.commandLine().getErr().flush();
                        if (round == 0) {
                            best.add(r);
                        } else if (r.stepMillis() < best.get(i).stepMillis()) {
                            best.set(i, r);
                        }
                        i++;
                    }
                }
            }
        } finally {
            loads.forEach(LoadProgressDisplay::close);
            models.forEach(LoadedModel::close);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (asJson) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("model", model);
            json.put("threads", nThreads);
            json.put("context", context);
            json.put("results", best.stream().map(BenchStepCommand::json).toList());
            out.println(Json.write(json));
        } else {
            for (StepProfileBenchmark.Result r : best) {
                out.printf("batch %d, context %d, kv cache %s, %d threads: %.3f ms/step, %.1f tok/s (ops %.3f ms)%n",
                        r.batch(), r.context(), r.kvCache(), nThreads, r.stepMillis(), r.tokensPerSecond(),
                        r.opMillis());
                r.ops().forEach((name, v) -> out.printf("  %-40s %8.3f ms/step %5.1f%%  (%.0f calls)%n", name, v[0],
                        100 * v[0] / r.stepMillis(), v[1]));
            }
            if (batches.size() > 1) {
                for (int k = 0; k < kvChoices.size(); k++) {
                    StepProfileBenchmark.Result first = best.get(k * batches.size());
                    StepProfileBenchmark.Result last = best.get((k + 1) * batches.size() - 1);
                    out.printf("kv cache %s: batch %d / batch %d throughput: %.2fx%n", first.kvCache(), last.batch(),
                            first.batch(), last.tokensPerSecond() / first.tokensPerSecond());
                }
            }
            if (kvChoices.size() > 1) {
                printKvTable(out, best);
            }
        }
        out.flush();
        return 0;
    }

    /**
     * The KV dtypes side by side: per batch size, each dtype's step and attention time, and its attention time over
     * the first dtype's (the first listed is the baseline, fp32 in {@code --kv-cache-dtype fp32,bf16,fp8}).
     */
    private void printKvTable(PrintWriter out, List<StepProfileBenchmark.Result> best) {
        out.printf("%nKV cache dtypes side by side, context %d (fastest of %d rounds):%n", context, rounds);
        out.printf("%-6s %-6s %12s %15s %18s%n", "batch", "kv", "step ms", "attention ms", "attention ratio");
        int n = batches.size();
        for (int b = 0; b < n; b++) {
            StepProfileBenchmark.Result base = best.get(b);
            for (int k = 0; k < best.size() / n; k++) {
                StepProfileBenchmark.Result r = best.get(k * n + b);
                out.printf("%-6d %-6s %12.3f %15.3f %17.2fx%n", r.batch(), r.kvCache(), r.stepMillis(),
                        r.attentionMillis(), r.attentionMillis() / base.attentionMillis());
            }
        }
    }

    /** Interleaved rounds per concurrency; the median round of each (by the step thread's own time) is reported. */
    private Integer callEngine(int nThreads, int maxBatch, KvCacheChoice kvCache) throws InterruptedException {
        int budget = Math.max(512, maxBatch);
        EngineConfig config = new EngineConfig(budget, maxBatch, maxBatch, 16, 0, 1L << 30, true, nThreads);
        List<List<StepThreadBenchmark.Result>> rounds = new ArrayList<>();
        batches.forEach(b -> rounds.add(new ArrayList<>()));
        java.util.concurrent.ExecutorService writers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        java.util.function.Supplier<io.nemotron.core.engine.EngineListener> chatCalls = !serviceListener ? null
                : () -> new io.nemotron.service.grpc.stream.ChatCall(
                        new io.nemotron.service.grpc.stream.ResponseStream<>(new DiscardingChatObserver(), writers,
                                Integer.MAX_VALUE),
                        out -> new io.nemotron.service.reasoning.ThinkSplitter(out,
                                new io.nemotron.service.grpc.stream.PlainTextPipeline(out), true),
                        "bench", List.of(), List.of());
        Path dir = ModelPaths.resolve(model);
        try (writers; LoadProgressDisplay progress = LoadProgressDisplay.show(model, spec.commandLine().getErr());
             LoadedModel loaded = LoadedModel.openCpu(dir, nThreads, budget, 1, kvCache, progress.progress(),
                     weightCache.options())) {
            StepThreadBenchmark bench = new StepThreadBenchmark(loaded, config, temperature, topP, chatCalls);
            for (int round = 0; round < this.rounds; round++) {
                for (int i = 0; i < batches.size(); i++) {
                    StepThreadBenchmark.Result r = bench.run(batches.get(i), context, genLen);
                    spec.commandLine().getErr().printf("round %d concurrency %3d: step %.3f ms, forward %.3f ms, "
                            + "step thread's own %.3f ms wall, %.3f ms CPU (%d decode steps)%n", round + 1,
                            r.concurrency(), r.stepMillis(), r.forwardMillis(), r.ownMillis(), r.ownCpuMillis(),
                            r.decodeSteps());
                    spec.commandLine().getErr().flush();
                    rounds.get(i).add(r);
                }
            }
        }
        List<StepThreadBenchmark.Result> medians = rounds.stream().map(rs -> rs.stream()
                .sorted(java.util.Comparator.comparingDouble(StepThreadBenchmark.Result::ownMillis))
                .toList().get(rs.size() / 2)).toList();
        PrintWriter out = spec.commandLine().getOut();
        if (format.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("model", model);
            json.put("threads", nThreads);
            json.put("prompt_len", context);
            json.put("gen_len", genLen);
            json.put("temperature", temperature);
            json.put("top_p", topP);
            json.put("service_listener", serviceListener);
            json.put("results", medians.stream().map(r -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("concurrency", r.concurrency());
                m.put("decode_steps", r.decodeSteps());
                m.put("step_ms", r.stepMillis());
                m.put("forward_ms", r.forwardMillis());
                m.put("step_thread_own_ms", r.ownMillis());
                m.put("step_thread_own_cpu_ms", r.ownCpuMillis());
                return m;
            }).toList());
            out.println(Json.write(json));
        } else {
            for (StepThreadBenchmark.Result r : medians) {
                out.printf("concurrency %d, prompt %d, gen %d, temperature %s, %d threads: decode step %.3f ms, "
                        + "forward %.3f ms, step thread's own %.3f ms; step thread's own CPU %.3f ms%n",
                        r.concurrency(), context, genLen, temperature, nThreads, r.stepMillis(), r.forwardMillis(),
                        r.ownMillis(), r.ownCpuMillis());
            }
        }
        out.flush();
        return 0;
    }

    private static Map<String, Object> json(StepProfileBenchmark.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", r.batch());
        m.put("context", r.context());
        m.put("kv_cache_dtype", r.kvCache());
        m.put("attention_ms", r.attentionMillis());
        m.put("steps", r.steps());
        m.put("step_ms", r.stepMillis());
        m.put("tokens_per_s", r.tokensPerSecond());
        Map<String, Object> ops = new LinkedHashMap<>();
        r.ops().forEach((name, v) -> ops.put(name, Map.of("ms_per_step", v[0], "calls_per_step", v[1])));
        m.put("ops", ops);
        return m;
    }
}
