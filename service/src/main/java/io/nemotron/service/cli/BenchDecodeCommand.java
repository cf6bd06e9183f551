package io.nemotron.service.cli;

import io.nemotron.core.bench.BenchShape;
import io.nemotron.core.bench.DecodeBenchmark;
import io.nemotron.core.bench.DecodeResult;
import io.nemotron.core.weights.DType;
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

/**
 * Batch-1 decode of random-weight Llama checkpoints next to the machine's streaming read bandwidth, measured in
 * the same process with the same threads, so the ratio is fair on any machine.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Batch-1 CPU decode speed vs. measured memory bandwidth on random-weight checkpoints.")
final class BenchDecodeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--shapes", split = ",", defaultValue = "110m,1b", description = "110m, 1b (default ${DEFAULT-VALUE})")
    List<String> shapes;

    @Option(names = "--dtypes", split = ",", defaultValue = "bf16,f32",
            description = "bf16, f32, f16, fp8 (ModelOpt FP8 linears, BF16 embedding and head) (default ${DEFAULT-VALUE})")
    List<String> dtypes;

    @Option(names = "--threads", description = "compute threads (default: available cores)")
    Integer threads;

    @Option(names = "--prompt-len", defaultValue = "32")
    int promptLen;

    @Option(names = "--gen-len", defaultValue = "64")
    int genLen;

    @Option(names = "--repeats", defaultValue = "3", description = "best of N runs")
    int repeats;

    @Option(names = "--bandwidth-gib", defaultValue = "2", description = "size of the bandwidth probe")
    double bandwidthGib;

    @Option(names = "--workdir", defaultValue = "bench-out/checkpoints", description = "where checkpoints are cached")
    Path workDir;

    @Mixin
    OutputFormat format;

    @Override
    public Integer call() {
        boolean asJson = format.json();
        List<BenchShape> shapeList = shapes.stream().map(BenchShape::parse).toList();
        List<DType> dtypeList = dtypes.stream().map(BenchDecodeCommand::dtype).toList();
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        DecodeBenchmark bench = new DecodeBenchmark(workDir, nThreads, promptLen, genLen, repeats);
        PrintWriter err = spec.commandLine().getErr();
        long probeBytes = (long) (bandwidthGib * (1L << 30));
        double bandwidth = bench.measureBandwidthGBps(probeBytes);
        err.printf("memory bandwidth (%d threads, %.1f GiB probe): %.1f GB/s%n", nThreads, bandwidthGib, bandwidth);
        err.flush();
        List<DecodeResult> results = new ArrayList<>();
        for (BenchShape shape : shapeList) {
            // the dtypes of a shape run side by side, repeat by repeat (see DecodeBenchmark#run)
            for (DecodeResult r : bench.run(shape, dtypeList, bandwidth)) {
                err.printf("%-5s %-4s %6.2f tok/s decode, %7.1f tok/s prefill, %6.1f GB/s = %5.1f %% of bandwidth%n",
                        r.shape(), r.dtype(), r.decodeTokensPerSecond(), r.prefillTokensPerSecond(),
                        r.achievedGBps(), 100 * r.fractionOfBandwidth());
                err.flush();
                results.add(r);
            }
        }
        // measured again after the runs: a drifting machine shows up as two different numbers. Best of two probes:
        // right after a multi-GB checkpoint is unmapped, the first probe here read 5x slower (kernel page work)
        double after = Math.max(bench.measureBandwidthGBps(probeBytes), bench.measureBandwidthGBps(probeBytes));
        PrintWriter out = spec.commandLine().getOut();
        if (asJson) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("threads", nThreads);
            json.put("bandwidth_gbps", bandwidth);
            json.put("bandwidth_gbps_after", after);
            json.put("results", results.stream().map(BenchDecodeCommand::json).toList());
            out.println(Json.write(json));
        } else {
            out.printf("bandwidth %.1f GB/s before, %.1f GB/s after (%d threads)%n", bandwidth, after, nThreads);
            for (DecodeResult r : results) {
                out.printf("%-5s %-4s params %,d  bytes/token %,d  decode %.2f tok/s  %.1f GB/s  %.1f %%%n",
                        r.shape(), r.dtype(), r.parameters(), r.weightBytesPerToken(), r.decodeTokensPerSecond(),
                        r.achievedGBps(), 100 * r.fractionOfBandwidth());
            }
            // each dtype's decode speed over BF16's on the same shape, measured side by side in this run
            for (DecodeResult r : results) {
                results.stream().filter(b -> b.shape().equals(r.shape()) && b.dtype().equals("bf16") && r != b)
                        .findFirst().ifPresent(b -> out.printf("%-5s %s/bf16 decode tokens/s: %.2fx%n", r.shape(),
                                r.dtype(), r.decodeTokensPerSecond() / b.decodeTokensPerSecond()));
            }
        }
        out.flush();
        return 0;
    }

    /** A --dtypes entry (fp8: the ModelOpt FP8 export of the same weights); an unknown one names the flag. */
    static DType dtype(String text) {
        try {
            return DType.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--dtypes: " + e.getMessage());
        }
    }

    private static Map<String, Object> json(DecodeResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("shape", r.shape());
        m.put("dtype", r.dtype());
        m.put("threads", r.threads());
        m.put("parameters", r.parameters());
        m.put("weight_bytes_per_token", r.weightBytesPerToken());
        m.put("prompt_tokens", r.promptTokens());
        m.put("generated_tokens", r.generatedTokens());
        m.put("prefill_tokens_per_s", r.prefillTokensPerSecond());
        m.put("decode_tokens_per_s", r.decodeTokensPerSecond());
        m.put("achieved_gbps", r.achievedGBps());
        m.put("fraction_of_bandwidth", r.fractionOfBandwidth());
        return m;
    }
}
