package io.nemotron.service.engine;

import io.nemotron.service.rag.EmbeddingRanker;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.core.chat.PromptBuilder;
import io.nemotron.service.chat.ChatPreparer;
import io.nemotron.core.engine.InferenceEngine;
import io.nemotron.core.demo.DemoModel;
import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.weights.LoadProgress;
import io.nemotron.core.weights.LoadProgressReporter;
import io.nemotron.service.config.NemotronProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Owns the model and its engine for the server's lifetime. Loading runs on its own thread so the gRPC server is up
 * (answering health checks with NOT_SERVING and RPCs with UNAVAILABLE) while a large checkpoint maps and warms up;
 * health turns SERVING only after the warm-up generation finished.
 */
@Component
public class ModelHost implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(ModelHost.class);
    private static final String SERVICE = NemotronGrpc.SERVICE_NAME;
    // the load takes ~3 s; bounded well inside the chart's termination grace, which the drain also spends
    private static final Duration EMBEDDING_WARMUP_WAIT = Duration.ofSeconds(10);

    private final NemotronProperties props;
    private final EngineFactory engines;
    private final HealthStatusManager health;
    private final Function<String, LoadProgress> progressOf;   // a load's progress, given the model's name
    private final CompletableFuture<ServingModel> loaded = new CompletableFuture<>();
    private volatile LoadProgress loadProgress;
    private volatile boolean running;
    private volatile boolean draining;
    private volatile boolean backendHealthy = true;
    private volatile Thread embeddingWarmup;

    @Autowired
    public ModelHost(NemotronProperties props, EngineFactory engines, HealthStatusManager health) {
        this(props, engines, health, LoadProgress::start);
    }

    /** As above, each load counted in the progress {@code progressOf} makes (a test's throttled or clocked one). */
    ModelHost(NemotronProperties props, EngineFactory engines, HealthStatusManager health,
              Function<String, LoadProgress> progressOf) {
        this.props = props;
        this.engines = engines;
        this.health = health;
        this.progressOf = progressOf;
    }

    /** The model's load so far (the load metrics); null before it began. Frozen once the load and warm-up ended. */
    public LoadProgress loadProgress() {
        return loadProgress;
    }

    /** The serving model, or {@link ModelNotReadyException} saying why there is none. */
    public ServingModel ready() {
        if (draining) {
            throw new ModelNotReadyException("the server is shutting down");
        }
        if (!loaded.isDone()) {
            throw new ModelNotReadyException("the model is still loading");
        }
        if (loaded.isCompletedExceptionally()) {
            throw new ModelNotReadyException("the model failed to load: " + loaded.exceptionNow().getMessage());
        }
        return loaded.resultNow();
    }

    /** Completes when the model served its warm-up generation, or exceptionally when loading failed. */
    public CompletableFuture<ServingModel> loaded() {
        return loaded;
    }

    @Override
    public void start() {
        running = true;
        // HealthStatusManager starts every service as SERVING: say otherwise before the server accepts a check
        setHealth(ServingStatus.NOT_SERVING);
        Thread.ofPlatform().name("model-loader").daemon(true).start(this::load);
    }

    private void load() {
        NemotronProperties.Model m = props.model();
        try {
            if (m.path() == null || m.path().isBlank()) {
                throw new IllegalArgumentException("nemotron.model.path is not set (serve --model DIR|demo)");
            }
            if (!"cpu".equals(m.backend()) && !"cuda".equals(m.backend())) {
                throw new IllegalArgumentException("nemotron.model.backend " + m.backend() + ": cpu or cuda");
            }
            // "demo" (the default) is the embedded random-weight checkpoint, written into the cache on first use
            Path dir = "demo".equals(m.path()) ? DemoModel.ensure(DemoModel.defaultCacheDir()) : Path.of(m.path());
            LoadProgress progress = progressOf.apply("demo".equals(m.path()) ? "demo" : dir.toString());
            loadProgress = progress;
            try (LoadProgressReporter reporter = LoadProgressReporter.start(progress, m.loadProgressInterval(),
                    m.loadProgressInterval(), LoadProgressReporter.log(log))) {
                load(m, dir, progress);
                progress.finish();   // before the reporter closes: the final line says how long it took
            } finally {
                progress.finish();   // a failed load's time stops too (without a final line)
            }
        } catch (Throwable t) {
            log.error("model {} failed to load: {}", m.path(), t.getMessage(), t);
            loaded.completeExceptionally(t);
        }
    }

    /** Opens the model, makes its engine and warms it up; health turns SERVING at the end. */
    private void load(NemotronProperties.Model m, Path dir, LoadProgress progress) {
        long start = System.nanoTime();
        EngineConfig engineConfig = props.engine().toEngineConfig(m.effectiveThreads());
        // the backend must take a whole step's token budget in one forward call
        LoadedModel model = "cuda".equals(m.backend())
                ? LoadedModel.openCuda(dir, 0, engineConfig.maxNumBatchedTokens(), m.tensorParallel(),
                        m.graphs(), m.kvCache(), progress)
                : LoadedModel.openCpu(dir, m.effectiveThreads(), engineConfig.maxNumBatchedTokens(),
                        m.tensorParallel(), m.kvCache(), progress, m.weightCacheOptions());
        StartupMemoryPlan.log(model, engineConfig);
        InferenceEngine engine;
        try {
            if (!"cuda".equals(m.backend())) {
                HeapFit.check(HeapFit.kvPoolBytes(engineConfig, model.kvBytesPerToken() * engineConfig.blockSize()),
                        Runtime.getRuntime().maxMemory());
            }
            if (model.tokenizer() == null) {
                throw new IllegalArgumentException(dir + ": no tokenizer.json; the server needs one");
            }
            engine = engines.create(model, engineConfig);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        ServingModel serving;
        try {
            Warmup.Report warm = Warmup.run(engine, ServingModel.probePrompt(model), m.warmupTokens(),
                    model.config().maxPositionEmbeddings(), model.config().vocabSize(), m.warmupTimeout());
            log.info("warm-up: {} tokens in {} rounds, {} ms; {}", warm.tokens(), warm.rounds(), warm.millis(),
                    warm.settled() ? "the JIT has settled" : "nemotron.model.warmup-tokens ran out before the JIT "
                            + "settled: the first requests may decode slower");
            serving = new ServingModel(model, engine, ChatPreparer.of(PromptBuilder.forModel(dir),
                    model.tokenizer(), model.config().maxPositionEmbeddings()),
                    ModelInfos.of(model, model.backendName()));
        } catch (RuntimeException e) {
            engine.close();
            model.close();
            throw e;
        }
        log.info("model {} ready in {} ms on {} ({} parameters, KV cache {} at {} bytes per token{}{})", dir,
                (System.nanoTime() - start) / 1_000_000, model.backendName(), serving.staticInfo().getParameters(),
                model.kvFormat().dtype().label(), model.kvBytesPerToken(),
                "cuda".equals(m.backend()) ? ", CUDA graphs " + (m.graphs().enabled() ? "on" : "off") : "",
                serving.staticInfo().getRandomWeights() ? ", RANDOM WEIGHTS: demo output is not language" : "");
        synchronized (this) {
            if (draining) { // stop() ran while this thread loaded: nobody else will close them
                engine.close();
                model.close();
                loaded.completeExceptionally(new ModelNotReadyException("the server stopped during loading"));
                return;
            }
            loaded.complete(serving);
            refreshHealth();
            // the RAG ranker's embedding model (ONNX, ~3 s to load) off the request path, after readiness: a
            // request with documents that arrives first simply waits for it. A platform thread: the load is
            // seconds of native code, which would pin a virtual thread's carrier and starve the streams'
            // virtual-thread writers. Started under the lock, so stop() (whose drain takes it) either sees the
            // thread and waits for it, or came first and it never starts.
            embeddingWarmup = Thread.ofPlatform().daemon(true).name("rag-embedding-warmup")
                    .start(EmbeddingRanker.shared()::warmUp);
        }
    }

    /**
     * Starts the drain: health turns NOT_SERVING (load balancers stop sending) and new calls get UNAVAILABLE; calls
     * in flight go on.
     */
    public synchronized void beginDrain() {
        draining = true;
        refreshHealth();
    }

    public boolean isDraining() {
        return draining;
    }

    /** The circuit breaker's verdict on the backend: while false, health says NOT_SERVING. */
    public synchronized void backendHealthy(boolean healthy) {
        backendHealthy = healthy;
        refreshHealth();
    }

    @Override
    public void stop() {
        beginDrain();
        awaitEmbeddingWarmup();
        if (loaded.isDone() && !loaded.isCompletedExceptionally()) {
            ServingModel s = loaded.resultNow();
            s.engine().close();
            s.model().close();
        }
        running = false;
    }

    /**
     * The JVM must not exit while ONNX Runtime is creating its session: its native library's static state is torn
     * down under the loading thread, which then dies with SIGSEGV (seen when SIGTERM came within seconds of
     * readiness), and the process would exit 134 instead of 0.
     */
    private void awaitEmbeddingWarmup() {
        Thread t = embeddingWarmup;
        if (t == null) {
            return;
        }
        try {
            if (!t.join(EMBEDDING_WARMUP_WAIT)) {
                log.warn("the RAG embedding model is still loading after {}; exiting anyway", EMBEDDING_WARMUP_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Lower than the gRPC server's phase: started before it, stopped after it has drained its calls. */
    @Override
    public int getPhase() {
        return 0;
    }

    private void refreshHealth() {
        boolean serving = loaded.isDone() && !loaded.isCompletedExceptionally() && !draining && backendHealthy;
        setHealth(serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    }

    private void setHealth(ServingStatus status) {
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
        health.setStatus(SERVICE, status);
    }
}
