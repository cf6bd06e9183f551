package io.nemotron.service.cli;

import io.nemotron.core.backend.cpu.WeightCacheOptions;
import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.runtime.KvCacheChoice;
import io.nemotron.service.NemotronServer;
import io.nemotron.service.engine.ModelHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Callable;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code ./nemotron serve}: runs the Spring Boot gRPC server until it is stopped (SIGTERM / Ctrl-C).
 * Flags become Spring properties only when given, so a {@code --config} file or the environment can set the rest.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the gRPC API (nemotron.v1.Nemotron, health, reflection) and the OpenAI-compatible HTTP API.")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--model", defaultValue = "demo", paramLabel = "DIR|demo",
            description = "checkpoint folder, or demo (default) for the embedded random-weights model")
    String model;

    @Option(names = "--backend", paramLabel = "cpu|cuda", description = "compute backend (default cpu)")
    String backend;

    @Option(names = "--tensor-parallel", paramLabel = "N", description = "tensor-parallel ranks (default 1)")
    Integer tensorParallel;

    @Option(names = "--cuda-graphs", paramLabel = "on|off",
            description = "CUDA backend: run decode steps as CUDA graphs (default on)")
    String cudaGraphs;

    @Option(names = "--kv-cache-dtype", paramLabel = "auto|fp32|bf16|fp8",
            description = "KV cache element type (default auto: fp8 when the checkpoint says so, else bf16)")
    String kvCacheDtype;

    @Option(names = "--weight-cache", paramLabel = "on|off",
            description = "CPU backend: keep the packed weights in a cache file mapped on later starts (default on)")
    String weightCache;

    @Option(names = "--weight-cache-dir", paramLabel = "DIR",
            description = "where weight caches go when the model folder is read-only (default ~/.cache/nemotron-serve/weights)")
    String weightCacheDir;

    @Option(names = "--port", description = "gRPC port (default 50051)")
    Integer port;

    @Option(names = "--http-port", description = "OpenAI-compatible HTTP API port (default 8000; 0 picks a free one)")
    Integer httpPort;

    @Option(names = "--management-port", description = "management port for /actuator (default 9090)")
    Integer managementPort;

    @Option(names = "--threads", description = "CPU compute threads (default: available cores)")
    Integer threads;

    @Option(names = "--config", paramLabel = "FILE", description = "a YAML or properties file over application.yaml")
    Path config;

    @Override
    public Integer call() throws InterruptedException {
        if (tensorParallel != null && tensorParallel < 1) {
            throw new IllegalArgumentException("--tensor-parallel must be at least 1, got " + tensorParallel);
        }
        if (cudaGraphs != null) {
            CudaGraphs.parse(cudaGraphs, "--cuda-graphs");
        }
        if (kvCacheDtype != null) {
            KvCacheChoice.parse(kvCacheDtype, "--kv-cache-dtype");
        }
        WeightCacheOptions.parse(weightCache, "--weight-cache", weightCacheDir, "--weight-cache-dir");
        if (config != null && !Files.isRegularFile(config)) {
            throw new IllegalArgumentException("--config " + config + ": no such file");
        }
        Path dir = ModelPaths.resolve(model);
        // SIGTERM is how Kubernetes stops a pod: a normal, drained shutdown (Spring's shutdown hook closes the
        // context, which drains), so exit 0 rather than the JVM's default 143
        Signal.handle(new Signal("TERM"), signal -> System.exit(0));
        SpringApplication app = new SpringApplication(NemotronServer.class);
        CountDownLatch closed = new CountDownLatch(1);
        app.addListeners(event -> {
            if (event instanceof ContextClosedEvent) {
                closed.countDown();
            }
        });
        ConfigurableApplicationContext context = app.run(springArgs(dir).toArray(String[]::new));
        try {
            context.getBean(ModelHost.class).loaded().get();
        } catch (ExecutionException e) {
            context.close();
            throw new IllegalArgumentException("--model " + model + ": " + e.getCause().getMessage(), e.getCause());
        }
        // the CLI's main calls System.exit when this returns: keep serving until the context closes
        closed.await();
        return 0;
    }

    List<String> springArgs(Path dir) {
        List<String> args = new ArrayList<>();
        args.add("--nemotron.model.path=" + dir.toAbsolutePath());
        if (backend != null) {
            args.add("--nemotron.model.backend=" + backend);
        }
        if (threads != null) {
            args.add("--nemotron.model.threads=" + threads);
        }
        if (tensorParallel != null) {
            args.add("--nemotron.model.tensor-parallel=" + tensorParallel);
        }
        if (cudaGraphs != null) {
            args.add("--nemotron.model.cuda-graphs=" + (CudaGraphs.parse(cudaGraphs, "--cuda-graphs").enabled() ? "on" : "off"));
        }
        if (kvCacheDtype != null) {
            args.add("--nemotron.model.kv-cache-dtype=" + KvCacheChoice.parse(kvCacheDtype, "--kv-cache-dtype").label());
        }
        if (weightCache != null || weightCacheDir != null) {
            var cache = WeightCacheOptions.parse(weightCache, "--weight-cache", weightCacheDir, "--weight-cache-dir");
            if (weightCache != null) {
                args.add("--nemotron.model.weight-cache=" + (cache.enabled() ? "on" : "off"));
            }
            if (weightCacheDir != null) {
                args.add("--nemotron.model.weight-cache-dir=" + cache.fallbackDir().toAbsolutePath());
            }
        }
        if (port != null) {
            args.add("--spring.grpc.server.port=" + port);
        }
        if (httpPort != null) {
            args.add("--server.port=" + httpPort);
        }
        if (managementPort != null) {
            args.add("--management.server.port=" + managementPort);
        }
        if (config != null) {
            args.add("--spring.config.additional-location=file:" + config.toAbsolutePath());
        }
        return args;
    }
}
