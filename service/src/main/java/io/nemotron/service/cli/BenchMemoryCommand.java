package io.nemotron.service.cli;

import io.nemotron.core.bench.BenchShape;
import io.nemotron.core.bench.DecodeBenchmark;
import io.nemotron.core.weights.DType;
import io.nemotron.service.bench.MemoryBenchmark;
import io.nemotron.service.bench.ProcessMemory;
import io.nemotron.service.bench.ServableCheckpoint;
import io.nemotron.service.bench.ServedMemory;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The resident memory of a real {@code ./nemotron serve} process after serving, split into its parts, against issue
 * 19's bound {@code 1.15 × weight bytes + KV pool + 1 GiB}.
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = "Resident memory of a served model (./nemotron serve in a child process) against "
                + "1.15 x weights + KV pool + 1 GiB.")
final class BenchMemoryCommand implements Callable<Integer> {
    private static final double GIB = 1L << 30;

    @Spec
    CommandSpec spec;

    static final class Source {
        @Option(names = "--shapes", paramLabel = "1b|110m",
                description = "a random-weight BF16 checkpoint of this shape (as bench decode writes it)")
        String shape;

        @Option(names = "--model", paramLabel = "DIR|demo", description = "a checkpoint folder with a tokenizer")
        String model;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--requests", defaultValue = "4", description = "requests served before the reading")
    int requests;

    @Option(names = "--prompt-len", defaultValue = "32")
    int promptLen;

    @Option(names = "--max-tokens", defaultValue = "32")
    int maxTokens;

    @Option(names = "--threads", description = "the server's compute threads (default: its own, the cores)")
    Integer threads;

    @Option(names = "--load-timeout-s", defaultValue = "900", description = "how long the load and warm-up may take")
    int loadTimeoutSeconds;

    @Option(names = "--launcher", description = "the nemotron launcher that starts the server "
            + "(default: $NEMOTRON_LAUNCHER, which ./nemotron sets to itself)")
    Path launcher;

    @Option(names = "--workdir", defaultValue = "bench-out/checkpoints", description = "where checkpoints are cached")
    Path workDir;

    @Mixin
    OutputFormat format;

    @Override
    public Integer call() throws Exception {
        boolean asJson = format.json();
        Path launcherPath = launcher();
        Path modelDir = modelDir();
        List<String> serveArgs = new ArrayList<>();
        if (threads != null) {
            serveArgs.addAll(List.of("--threads", threads.toString()));
        }
        PrintWriter err = spec.commandLine().getErr();
        MemoryBenchmark bench = new MemoryBenchmark(new MemoryBenchmark.Settings(launcherPath, modelDir, serveArgs,
                requests, promptLen, maxTokens, Duration.ofSeconds(loadTimeoutSeconds),
                workDir.resolve("bench-memory-serve.log")), line -> {
                    err.println(line);
                    err.flush();
                });
        ServedMemory m = bench.run();
        PrintWriter out = spec.commandLine().getOut();
        if (asJson) {
            out.println(Json.write(json(m, source.shape != null ? source.shape : source.model)));
        } else {
            print(out, m);
        }
        out.flush();
        return 0;
    }

    private Path launcher() {
        Path p = launcher;
        if (p == null) {
            String env = System.getenv("NEMOTRON_LAUNCHER");
            if (env == null || env.isBlank()) {
                throw new IllegalArgumentException("--launcher: not given and $NEMOTRON_LAUNCHER is not set "
                        + "(run through ./nemotron, or name the launcher)");
            }
            p = Path.of(env);
        }
        if (!Files.isExecutable(p)) {
            throw new IllegalArgumentException("--launcher " + p + ": not an executable file");
        }
        return p;
    }

    private Path modelDir() {
        if (source.model != null) {
            return ModelPaths.resolve(source.model);
        }
        BenchShape shape = BenchShape.parse(source.shape);
        Path checkpoint = new DecodeBenchmark(workDir, 1, 1, 2, 1).checkpoint(shape, DType.BF16);
        return ServableCheckpoint.of(checkpoint, workDir.resolve(shape.label() + "-bf16-served"));
    }

    private static void print(PrintWriter out, ServedMemory m) {
        ProcessMemory p = m.memory();
        out.printf("server pid %d after %d requests (%d tokens):%n", m.pid(), m.requests(), m.generatedTokens());
        out.printf("  resident (VmRSS)        %8.3f GiB = anonymous %.3f + file-backed %.3f + shmem %.3f "
                + "(Pss %.3f)%n", gib(p.vmRss()), gib(p.rssAnon()), gib(p.rssFile()), gib(p.rssShmem()), gib(p.pss()));
        out.printf("  weights (checkpoint)    %8.3f GiB%n", gib(m.weightBytes()));
        out.printf("  KV pool (engine plan)   %8.3f GiB (on the JVM heap)%n", gib(m.kvPoolBytes()));
        out.printf("  JVM heap used/committed %8.3f / %.3f GiB (max %.3f)%n", gib(m.heapUsedBytes()),
                gib(m.heapCommittedBytes()), gib(m.heapMaxBytes()));
        out.printf("  JVM non-heap used       %8.3f GiB%n", gib(m.nonHeapUsedBytes()));
        out.printf("  bound 1.15 x weights + KV pool + 1 GiB = %.3f GiB: %s (resident / bound %.3f)%n",
                gib(m.bound().bytes()), m.withinBound() ? "PASS" : "FAIL",
                (double) p.vmRss() / m.bound().bytes());
    }

    private static Map<String, Object> json(ServedMemory m, String model) {
        ProcessMemory p = m.memory();
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model", model);
        j.put("pid", m.pid());
        j.put("requests", m.requests());
        j.put("generated_tokens", m.generatedTokens());
        j.put("vm_rss_bytes", p.vmRss());
        j.put("rss_anon_bytes", p.rssAnon());
        j.put("rss_file_bytes", p.rssFile());
        j.put("rss_shmem_bytes", p.rssShmem());
        j.put("pss_bytes", p.pss());
        j.put("smaps_anonymous_bytes", p.anonymous());
        j.put("weight_bytes", m.weightBytes());
        j.put("kv_pool_bytes", m.kvPoolBytes());
        j.put("heap_used_bytes", m.heapUsedBytes());
        j.put("heap_committed_bytes", m.heapCommittedBytes());
        j.put("heap_max_bytes", m.heapMaxBytes());
        j.put("nonheap_used_bytes", m.nonHeapUsedBytes());
        j.put("bound_bytes", m.bound().bytes());
        j.put("within_bound", m.withinBound());
        return j;
    }

    private static double gib(long bytes) {
        return bytes / GIB;
    }
}
