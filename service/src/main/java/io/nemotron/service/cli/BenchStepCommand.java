package io.nemotron.service.cli;

import io.nemotron.core.bench.StepProfileBenchmark;
import io.nemotron.core.bench.StepThreadBenchmark;
import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.runtime.LoadedModel;
import java.io.PrintWriter;
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

    @Override
    public Integer call() throws InterruptedException {
        boolean asJson = format.json();
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
        }
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        int maxBatch = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
        if (engine) {
            return callEngine(nThreads, maxBatch);
        }
        List<StepProfileBenchmark.Result> best = new ArrayList<>();
        try (LoadedModel loaded = LoadedModel.openCpu(ModelPaths.resolve(model), nThreads, Math.max(maxBatch, 16))) {
            StepProfileBenchmark bench = new StepProfileBenchmark(loaded);
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < batches.size(); i++) {
                    StepProfileBenchmark.Result r = bench.run(batches.get(i), context, warmupSteps, steps);
                    spec.commandLine().getErr().printf("round %d batch %3d: %.3f ms/step, %.1f tok/s%n", round + 1,
                            r.batch(), r.stepMillis(), r.tokensPerSecond());
                    spec.commandLine().getErr().flush();
                    if (round == 0) {
                        best.add(r);
                    } else if (r.stepMillis() < best.get(i).stepMillis()) {
                        best.set(i, r);
                    }
                }
            }
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
                out.printf("batch %d, context %d, %d threads: %.3f ms/step, %.1f tok/s (ops %.3f ms)%n", r.batch(),
                        r.context(), nThreads, r.stepMillis(), r.tokensPerSecond(), r.opMillis());
                r.ops().forEach((name, v) -> out.printf("  %-40s %8.3f ms/step %5.1f%%  (%.0f calls)%n", name, v[0],
                        100 * v[0] / r.stepMillis(), v[1]));
            }
            if (best.size() > 1) {
                StepProfileBenchmark.Result first = best.get(0);
                StepProfileBenchmark.Result last = best.get(best.size() - 1);
                out.printf("batch %d / batch %d throughput: %.2fx%n", last.batch(), first.batch(),
                        last.tokensPerSecond() / first.tokensPerSecond());
            }
        }
        out.flush();
        return 0;
    }

    /** Interleaved rounds per concurrency; the median round of each (by the step thread's own time) is reported. */
    private Integer callEngine(int nThreads, int maxBatch) throws InterruptedException {
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
        try (writers; LoadedModel loaded = LoadedModel.openCpu(ModelPaths.resolve(model), nThreads, budget)) {
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
        m.put("steps", r.steps());
        m.put("step_ms", r.stepMillis());
        m.put("tokens_per_s", r.tokensPerSecond());
        Map<String, Object> ops = new LinkedHashMap<>();
        r.ops().forEach((name, v) -> ops.put(name, Map.of("ms_per_step", v[0], "calls_per_step", v[1])));
        m.put("ops", ops);
        return m;
    }
}
