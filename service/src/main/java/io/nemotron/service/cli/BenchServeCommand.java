package io.nemotron.service.cli;

import io.nemotron.service.bench.ServeBenchmark;
import io.nemotron.service.bench.ServeLoad;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** A gRPC load generator against a running server (vLLM benchmark_serving-style numbers). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Load a running server with streaming Generate calls: TTFT, ITL, e2e, throughput.")
final class BenchServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--target", required = true, paramLabel = "HOST:PORT")
    String target;

    @Option(names = "--concurrency", split = ",", defaultValue = "1",
            description = "streams in flight; several (1,16) are measured from one warm client, in interleaved rounds")
    List<Integer> concurrency;

    @Option(names = "--rounds", defaultValue = "1", description = "measured rounds of every concurrency (after one unmeasured)")
    int rounds;

    @Option(names = "--requests", defaultValue = "16")
    int requests;

    @Option(names = "--prompt-len", defaultValue = "128")
    int promptLen;

    @Option(names = "--gen-len", defaultValue = "64")
    int genLen;

    @Option(names = "--shared-prefix-len", defaultValue = "0", description = "leading prompt tokens shared by all requests")
    int sharedPrefixLen;

    @Option(names = "--rate", defaultValue = "0", description = "Poisson arrivals per second (0 = as fast as concurrency allows)")
    double rate;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Mixin
    OutputFormat format;

    @Override
    public Integer call() throws Exception {
        boolean asJson = format.json();
        PrintWriter out = spec.commandLine().getOut();
        if (concurrency.size() > 1 || rounds > 1) {
            runMany(out, asJson);
            return 0;
        }
        Map<String, Object> result = new ServeBenchmark(new ServeLoad(target, concurrency.getFirst(), requests,
                promptLen, genLen, sharedPrefixLen, rate, 0, seed)).run();
        if (asJson) {
            out.println(Json.write(result));
        } else {
            result.forEach((k, v) -> out.printf("%-22s %s%n", k, v));
        }
        out.flush();
        return 0;
    }

    /** One line per measured run, then the median throughput of each concurrency and their ratio (last / first). */
    private void runMany(PrintWriter out, boolean asJson) throws InterruptedException {
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
        }
        List<ServeLoad> loads = concurrency.stream().map(c -> new ServeLoad(target, c, requests, promptLen, genLen,
                sharedPrefixLen, rate, 0, seed)).toList();
        List<Map<String, Object>> runs = ServeBenchmark.runAll(loads, rounds);
        Map<String, Object> medians = new LinkedHashMap<>();
        for (int c : concurrency) {
            List<Double> tps = runs.stream().filter(r -> (int) r.get("concurrency") == c)
                    .map(r -> (Double) r.get("output_tokens_per_s")).sorted().toList();
            medians.put(Integer.toString(c), tps.get(tps.size() / 2));
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("rounds", rounds);
        summary.put("median_output_tokens_per_s", medians);
        double first = (Double) medians.get(Integer.toString(concurrency.getFirst()));
        double last = (Double) medians.get(Integer.toString(concurrency.getLast()));
        summary.put("throughput_ratio", last / first);
        for (Map<String, Object> r : runs) {
            out.println(asJson ? Json.write(r) : r.toString());
        }
        out.println(asJson ? Json.write(Map.of("summary", summary)) : "summary " + summary);
        out.flush();
    }
}
