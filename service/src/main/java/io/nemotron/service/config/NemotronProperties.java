package io.nemotron.service.config;

import org.springframework.boot.context.properties.bind.ConstructorBinding;
import io.nemotron.core.backend.cpu.WeightCacheOptions;
import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.runtime.KvCacheChoice;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Everything under {@code nemotron.*} (defaults in application.yaml; environment variables such as
 * {@code NEMOTRON_ENGINE_MAX_NUM_SEQS} override them by Spring's relaxed binding; {@code serve} flags override both).
 */
@ConfigurationProperties("nemotron")
public record NemotronProperties(Model model, Engine engine, Grpc grpc) {

    /**
     * @param path           checkpoint folder (the {@code serve --model} flag, resolved)
     * @param backend        compute backend; only {@code cpu} exists in this build
     * @param threads        CPU compute threads; 0 = every available core
     * @param warmupTimeout  how long the warm-up generation may take before loading counts as failed
     * @param tensorParallel ranks the model is split over (CPU: threads of this process sharing {@code threads})
     * @param cudaGraphs     {@code on} (default when unset) or {@code off}: the CUDA backend's decode steps as CUDA graphs
     * @param kvCacheDtype   {@code auto} (default when unset), {@code fp32}, {@code bf16} or {@code fp8}: the KV cache's
     *                       element type (auto: FP8 when the checkpoint's quantization config says so, else BF16)
     * @param loadProgressInterval how often the log shows the load's progress (default 5 s when unset)
     * @param warmupTokens   the most tokens the warm-up generates before SERVING (default when unset: 2048); it ends
     *                       sooner, once the JIT has settled on the batch-1 path (see the service's Warmup)
     */
    public record Model(String path, String backend, int threads, Duration warmupTimeout, int tensorParallel,
                        String cudaGraphs, String kvCacheDtype, Duration loadProgressInterval, String weightCache,
                        String weightCacheDir, Integer warmupTokens) {
        public static final Duration DEFAULT_LOAD_PROGRESS_INTERVAL = Duration.ofSeconds(5);
        public static final int DEFAULT_WARMUP_TOKENS = 2048;

        /**
         * Without the weight cache's settings, for code that builds the properties itself: the cache OFF, as before it
         * existed (bound from configuration, an unset {@code weight-cache} is on).
         */
        public Model(String path, String backend, int threads, Duration warmupTimeout, int tensorParallel,
                     String cudaGraphs, String kvCacheDtype, Duration loadProgressInterval) {
            this(path, backend, threads, warmupTimeout, tensorParallel, cudaGraphs, kvCacheDtype, loadProgressInterval,
                    "off", null, null);
        }

        @ConstructorBinding   // the one Spring binds (the record has a shorter constructor beside it)
        public Model {
            if (warmupTokens == null) {
                warmupTokens = DEFAULT_WARMUP_TOKENS;
            }
            if (warmupTokens < 1) {
                throw new IllegalArgumentException("nemotron.model.warmup-tokens must be >= 1, got " + warmupTokens);
            }
            if (loadProgressInterval == null) {
                loadProgressInterval = DEFAULT_LOAD_PROGRESS_INTERVAL;
            }
            if (loadProgressInterval.isNegative() || loadProgressInterval.isZero()) {
                throw new IllegalArgumentException("nemotron.model.load-progress-interval must be positive, got "
                        + loadProgressInterval);
            }
            if (tensorParallel < 1) {
                throw new IllegalArgumentException("nemotron.model.tensor-parallel must be >= 1, got " + tensorParallel);
            }
            if (cudaGraphs == null) {
                cudaGraphs = "on";
            }
            CudaGraphs.parse(cudaGraphs, "nemotron.model.cuda-graphs");   // a bad value fails at start, named
            if (kvCacheDtype == null) {
                kvCacheDtype = "auto";
            }
            KvCacheChoice.parse(kvCacheDtype, "nemotron.model.kv-cache-dtype");
            if (weightCache == null) {
                weightCache = "on";
            }
            weightCacheOptions(weightCache, weightCacheDir);   // a bad value fails at start, named
        }

        /** The CPU weight cache file ({@code nemotron.model.weight-cache}, {@code nemotron.model.weight-cache-dir}). */
        public WeightCacheOptions weightCacheOptions() {
            return weightCacheOptions(weightCache, weightCacheDir);
        }

        private static WeightCacheOptions weightCacheOptions(String mode, String dir) {
            return WeightCacheOptions.parse(mode, "nemotron.model.weight-cache", dir, "nemotron.model.weight-cache-dir");
        }

        public KvCacheChoice kvCache() {
            return KvCacheChoice.parse(kvCacheDtype, "nemotron.model.kv-cache-dtype");
        }

        public CudaGraphs graphs() {
            return CudaGraphs.parse(cudaGraphs, "nemotron.model.cuda-graphs");
        }

        public int effectiveThreads() {
            return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        }
    }

    /** Scheduler and KV-cache limits; names and meanings as {@link EngineConfig}. */
    public record Engine(int maxNumBatchedTokens, int maxNumSeqs, int maxWaiting, int blockSize, int numKvBlocks,
                         DataSize kvCacheSize, boolean enablePrefixCaching) {
        public EngineConfig toEngineConfig(int threads) {
            return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, maxWaiting, blockSize, numKvBlocks,
                    kvCacheSize.toBytes(), enablePrefixCaching, threads);
        }
    }

    /**
     * @param maxRequestSize     larger requests get INVALID_ARGUMENT naming their largest field; keep it below
     *                           {@code spring.grpc.server.max-inbound-message-size}, where the transport itself
     *                           answers RESOURCE_EXHAUSTED without reading the message
     * @param maxPendingMessages response messages buffered for one stream while its client is not ready; past this
     *                           the request is cancelled and the stream ends with RESOURCE_EXHAUSTED
     */
    public record Grpc(DataSize maxRequestSize, int maxPendingMessages) {}
}
