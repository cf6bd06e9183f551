package io.nemotron.service.cli;

import io.nemotron.core.bench.OfflineBenchmark;
import io.nemotron.core.bench.OfflineResult;
import io.nemotron.core.engine.EngineConfig;
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

/** Throughput of the continuous-batching engine: every request of a batch submitted at once. */
@Command(name = "offline", mixinStandardHelpOptions = true,
        description = "Prefill and decode tokens/s per batch size through the real engine.")
final class BenchOfflineCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|demo")
    String model;

    @Option(names = "--batch", split = ",", defaultValue = "1,4,16")
    List<Integer> batches;

    @Option(names = "--prompt-len", defaultValue = "128")
    int promptLen;

    @Option(names = "--gen-len", defaultValue = "64")
    int genLen;

    @Option(names = "--threads", description = "compute threads (default: available cores)")
    Integer threads;

    @Option(names = "--tensor-parallel", defaultValue = "1", paramLabel = "N", description = "tensor-parallel ranks")
    int tensorParallel;

    @Option(names = "--kv-cache-dtype", defaultValue = "auto", paramLabel = "auto|fp32|bf16|fp8",
            description = "KV cache element type (default auto)")
    String kvCacheDtype;

    @Option(names = "--max-num-batched-tokens", defaultValue = "512")
    int maxNumBatchedTokens;

    @Mixin
    OutputFormat format;

    @Mixin
    WeightCacheFlags weightCache;

    @Override
    public Integer call() throws Exception {
        boolean asJson = format.json();
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        int maxBatch = batches.stream().mapToInt(Integer::intValue).max().orElse(1);
        EngineConfig config = new EngineConfig(maxNumBatchedTokens, Math.max(1, maxBatch), Math.max(1, maxBatch),
                16, 0, 1L << 30, true, nThreads);
        List<OfflineResult> results = new ArrayList<>();
        io.nemotron.core.runtime.KvCacheChoice kvCache =
                io.nemotron.core.runtime.KvCacheChoice.parse(kvCacheDtype, "--kv-cache-dtype");
        Path dir = ModelPaths.resolve(model);
        try (LoadProgressDisplay progress = LoadProgressDisplay.show(model, spec.commandLine().getErr());
             LoadedModel loaded = LoadedModel.openCpu(dir, nThreads, maxNumBatchedTokens, tensorParallel, kvCache,
                     progress.progress(), weightCache.options())) {
            OfflineBenchmark bench = new OfflineBenchmark(loaded, config);
            for (int b : batches) {
                OfflineResult r = bench.run(b, promptLen, genLen);
                spec.commandLine().getErr().printf("batch %3d: prefill %8.1f tok/s, decode %8.1f tok/s, output %8.1f tok/s%n",
                        b, r.prefillTokensPerSecond(), r.decodeTokensPerSecond(), r.outputTokensPerSecond());
                spec.commandLine().getErr().flush();
                results.add(r);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (asJson) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("model", model);
            json.put("threads", nThreads);
            json.put("results", results.stream().map(BenchOfflineCommand::json).toList());
            out.println(Json.write(json));
        } else {
            for (OfflineResult r : results) {
                out.printf("batch %d  prompt %d  gen %d  prefill %.1f tok/s  decode %.1f tok/s  output %.1f tok/s%n",
                        r.batch(), r.promptLen(), r.genLen(), r.prefillTokensPerSecond(),
                        r.decodeTokensPerSecond(), r.outputTokensPerSecond());
            }
        }
        out.flush();
        return 0;
    }

    private static Map<String, Object> json(OfflineResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", r.batch());
        m.put("prompt_len", r.promptLen());
        m.put("gen_len", r.genLen());
        m.put("seconds", r.seconds());
        m.put("prefill_tokens_per_s", r.prefillTokensPerSecond());
        m.put("decode_tokens_per_s", r.decodeTokensPerSecond());
        m.put("output_tokens_per_s", r.outputTokensPerSecond());
        return m;
    }
}
