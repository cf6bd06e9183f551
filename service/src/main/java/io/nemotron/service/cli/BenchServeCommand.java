package io.nemotron.service.cli;

import io.nemotron.service.bench.ServeBenchmark;
import io.nemotron.service.bench.ServeLoad;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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

    @Option(names = "--concurrency", defaultValue = "1")
    int concurrency;

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

    @Option(names = "--output", defaultValue = "text", description = "text | json")
    String output;

    @Override
    public Integer call() throws Exception {
        if (!output.equals("text") && !output.equals("json")) {
            throw new IllegalArgumentException("--output must be text or json, got '" + output + "'");
        }
        Map<String, Object> result = new ServeBenchmark(new ServeLoad(target, concurrency, requests, promptLen,
                genLen, sharedPrefixLen, rate, 0, seed)).run();
        PrintWriter out = spec.commandLine().getOut();
        if (output.equals("json")) {
            out.println(Json.write(result));
        } else {
            result.forEach((k, v) -> out.printf("%-22s %s%n", k, v));
        }
        out.flush();
        return 0;
    }
}
