package io.nemotron.core.runtime;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.cpu.CachedWeights;
import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.backend.cpu.WeightCache;
import io.nemotron.core.backend.cpu.WeightCacheOptions;
import io.nemotron.core.backend.cuda.CudaBackend;
import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.model.KvScales;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.Transformer;
import io.nemotron.core.parallel.RankFactory;
import io.nemotron.core.parallel.ShardPlan;
import io.nemotron.core.parallel.TensorParallelTransformer;
import java.lang.foreign.Arena;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.tokenizer.Tokenizer;
import io.nemotron.core.weights.CheckpointLayout;
import io.nemotron.core.weights.LoadProgress;
import io.nemotron.core.weights.ModelOptConfig;
import io.nemotron.core.weights.SafetensorsReader;
import io.nemotron.core.weights.Tensor;
import io.nemotron.core.weights.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;

/**
 * A checkpoint folder opened for inference: config, memory-mapped weights (validated against the config before any
 * compute), the CPU backend, the forward pass and, when the folder has a tokenizer.json, the tokenizer.
 */
public final class LoadedModel implements AutoCloseable {
    /** Prompt chunk size: rows per forward call during prefill (bounds activation memory). */
    public static final int DEFAULT_PREFILL_CHUNK = 128;

    private final Path dir;
    private final ModelConfig config;
    private final WeightSource weights;      // the checkpoint's mapping, or the weight cache's that replaced it
    private final Backend backend;
    private final Transformer transformer;
    private final ForwardPass forwardPass;   // the transformer, or its tensor-parallel split
    private final Arena shardArena;          // the copied column slices of the ranks' shards
    private final CudaDevice device;         // the GPU the backend runs on (rank 0's when split); null on the CPU
    private final List<CudaDevice> rankDevices;   // rank r's GPU at index r; empty on the CPU
    private final Tokenizer tokenizer;
    private final KvCacheFormat kvFormat;

    /** Makes the single-rank backend once the weights are validated. */
    @FunctionalInterface
    private interface BackendFactory {
        Backend create(ModelConfig config, ModelWeights weights, KvCacheFormat kvFormat, CachedWeights cache);
    }

    /**
     * {@code backends} makes the one backend of an unsplit model; {@code rankFactory} the ranks of a split one (called
     * once the weights are validated; the split owns and closes what it makes). {@code kvCache} is resolved against
     * the checkpoint ({@code cuda}: for the CUDA backend).
     */
    private LoadedModel(Path dir, BackendFactory backends, CudaDevice device, int tensorParallel,
                        Function<KvCacheFormat, RankFactory> rankFactory, KvCacheChoice kvCache, boolean cuda,
                        LoadProgress progress, WeightCacheOptions cacheOptions) {
        this.dir = dir;
        // one real path for everything read below: a symlinked model folder flipped mid-load cannot mix two versions
        Path real = realPath(dir);
        this.config = ModelConfigLoader.load(real);
        boolean cached = !cuda && tensorParallel == 1 && cacheOptions.enabled();
        Map<String, String> keyBeforeMapping = cached ? WeightCache.keyOf(real, 0, 1) : null;
        SafetensorsReader checkpoint = SafetensorsReader.open(real);
        WeightSource source = checkpoint;
        this.shardArena = Arena.ofShared();
        Backend made = null;
        TensorParallelTransformer split = null;
        CudaDevice gpu = device;
        List<CudaDevice> gpus = device == null ? List.of() : List.of(device);
        try {
            // every tensor's presence, dtype and shape is checked before any compute, naming tensor and file
            // an FP8 checkpoint's dtypes and scales are checked against its quantization config here too
            CheckpointLayout.of(config, ModelOptConfig.load(real)).validate(checkpoint);
            // NOTE: the CPU ranks of a split copy their column slices into shardArena and pack those: a cache per rank
            // would have to hold the slices; only the unsplit CPU model (one copy of the weights) uses the cache
            CachedWeights cache = !cached ? null : WeightCache.open(real, checkpoint, config.tieWordEmbeddings(), 0, 1,
                    cacheOptions, cacheBuild(progress, checkpoint), keyBeforeMapping);
            if (cache != null) {
                checkpoint.close();   // the cache's pages are now the one copy of the weights
                source = cache;
            }
            ModelWeights w = ModelWeights.from(config, source);
            this.kvFormat = kvFormat(real, config, source, kvCache, cuda);
            if (tensorParallel == 1) {
                made = backends.create(config, w, kvFormat, cache);
                this.transformer = new Transformer(config, w, made);
                this.forwardPass = transformer;
            } else {
                // only the ranks: a whole-model backend beside them would hold its own threads and buffers unused
                ShardPlan.of(config, tensorParallel);   // an impossible split is refused before any rank is made
                RankFactory ranks = rankFactory.apply(kvFormat);
                if (ranks instanceof CudaRanks cudaRanks) {
                    gpu = cudaRanks.device(0);
                    gpus = IntStream.range(0, cudaRanks.ranks()).mapToObj(cudaRanks::device).toList();
                }
                split = TensorParallelTransformer.of(config, w, ranks, shardArena);
                this.transformer = split.rank(0);
                this.forwardPass = split;
            }
            this.backend = transformer.backend();
            this.device = gpu;
            this.rankDevices = gpus;
            this.tokenizer = Files.exists(real.resolve("tokenizer.json")) ? Tokenizer.load(real) : null;
            this.weights = source;
            progress.seal();   // every phase has begun (the CPU's packing is counted as the warm-up does it)
        } catch (RuntimeException e) {
            if (made != null) {
                made.close();
            }
            if (split != null) {
                split.close();
            }
            shardArena.close();
            source.close();
            checkpoint.close();
            throw e;
        }
    }

    /**
     * The KV cache format {@code choice} resolves to for this checkpoint: auto follows its quantization config
     * ({@code kv_cache_quant_algo: FP8}) and the backend; FP8 takes the checkpoint's per-layer k/v scales (1.0, with a
     * warning, where it has none).
     */
    private static KvCacheFormat kvFormat(Path dir, ModelConfig config, WeightSource weights,
                                          KvCacheChoice choice, boolean cuda) {
        KvCacheDtype dtype = choice.resolve(ModelOptConfig.load(dir).kvCacheFp8(), cuda);
        if (cuda) {
            CudaBackend.requireSupported(dtype);   // FP32: refused naming --kv-cache-dtype
        }
        return KvScales.read(config, weights).format(dtype);
    }

    /** Opens {@code dir} on the CPU backend with {@code threads} compute threads. */
    public static LoadedModel openCpu(Path dir, int threads) {
        return openCpu(dir, threads, DEFAULT_PREFILL_CHUNK);
    }

    /** As above, with room for {@code maxRows} rows per forward call (the engine's token budget per step). */
    public static LoadedModel openCpu(Path dir, int threads, int maxRows) {
        return openCpu(dir, threads, maxRows, 1);
    }

    /**
     * As above, split over {@code tensorParallel} CPU ranks (threads of this process; {@code threads} are shared
     * out among them).
     */
    public static LoadedModel openCpu(Path dir, int threads, int maxRows, int tensorParallel) {
        return openCpu(dir, threads, maxRows, tensorParallel, KvCacheChoice.of(KvCacheDtype.FP32));
    }

    /**
     * As above, with the KV cache in the dtype {@code kvCache} resolves to ({@link KvCacheChoice#resolve}); no weight
     * cache file (BF16 matrices are packed in memory on first use).
     */
    public static LoadedModel openCpu(Path dir, int threads, int maxRows, int tensorParallel, KvCacheChoice kvCache) {
        return openCpu(dir, threads, maxRows, tensorParallel, kvCache, LoadProgress.start(name(dir)));
    }

    /**
     * As above, counting the load in {@code progress}: one phase, "pack", of the weights the backend copies on first
     * use ({@link CpuBackend#copiesOnFirstUse}), one per rank when split; it runs in the first forward pass (the
     * warm-up). No weight cache file.
     */
    public static LoadedModel openCpu(Path dir, int threads, int maxRows, int tensorParallel, KvCacheChoice kvCache,
                                      LoadProgress progress) {
        return openCpu(dir, threads, maxRows, tensorParallel, kvCache, progress, WeightCacheOptions.OFF);
    }

    /**
     * As above, with the weights' run-time layout kept in a cache file as {@code weightCache} says
     * ({@link WeightCache}; the unsplit model only). A cache build is counted as the phase "cache" of
     * {@code progress}; a mapped cache's matrices count in "pack" as the first forward pass takes them.
     */
    public static LoadedModel openCpu(Path dir, int threads, int maxRows, int tensorParallel, KvCacheChoice kvCache,
                                      LoadProgress progress, WeightCacheOptions weightCache) {
        if (tensorParallel < 1) {
            throw new IllegalArgumentException("tensor-parallel size must be >= 1, got " + tensorParallel);
        }
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model folder " + dir + " does not exist");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        BackendFactory cpu = (c, w, kv, cache) -> {
            CpuBackend b = new CpuBackend(c, w.embedTokens(), 0, null, threads, maxRows, kv, cache);
            b.reportCopiesTo(progress.phase("pack", copiedOnFirstUse(w)));
            return b;
        };
        return new LoadedModel(dir, cpu, null, tensorParallel,
                kv -> new CpuRanks(tensorParallel, Math.max(1, threads / tensorParallel), maxRows, kv, progress),
                kvCache, false, progress, weightCache);
    }

    /**
     * Opens {@code dir} on GPU {@code ordinal} with the CUDA backend ({@code maxRows} rows per forward call). Refused
     * with the reason when no GPU can be used here (no libcuda, no driver, no device).
     */
    public static LoadedModel openCuda(Path dir, int ordinal, int maxRows) {
        return openCuda(dir, ordinal, maxRows, 1);
    }

    /**
     * As above, split over {@code tensorParallel} GPUs: rank r on GPU {@code ordinal + r}, each with its shard and
     * CUDA backend, joined by NCCL (one process, one thread per rank).
     */
    public static LoadedModel openCuda(Path dir, int ordinal, int maxRows, int tensorParallel) {
        return openCuda(dir, ordinal, maxRows, tensorParallel, CudaGraphs.on());
    }

    /**
     * As above, with decode steps run as CUDA graphs as {@code graphs} says (on by default; {@link CudaGraphs#OFF} runs
     * every step eagerly).
     */
    public static LoadedModel openCuda(Path dir, int ordinal, int maxRows, int tensorParallel, CudaGraphs graphs) {
        return openCuda(dir, ordinal, maxRows, tensorParallel, graphs, KvCacheChoice.AUTO);
    }

    /** As above, with the KV cache in the dtype {@code kvCache} resolves to ({@link KvCacheChoice#resolve}). */
    public static LoadedModel openCuda(Path dir, int ordinal, int maxRows, int tensorParallel, CudaGraphs graphs,
                                       KvCacheChoice kvCache) {
        return openCuda(dir, ordinal, maxRows, tensorParallel, graphs, kvCache, LoadProgress.start(name(dir)));
    }

    /** As above, counting each rank's weight upload in {@code progress} (phase "upload", one per rank when split). */
    public static LoadedModel openCuda(Path dir, int ordinal, int maxRows, int tensorParallel, CudaGraphs graphs,
                                       KvCacheChoice kvCache, LoadProgress progress) {
        if (tensorParallel < 1) {
            throw new IllegalArgumentException("tensor-parallel size must be >= 1, got " + tensorParallel);
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model folder " + dir + " does not exist");
        }
        kvCache.fixed().ifPresent(CudaBackend::requireSupported);   // refused before a device is opened
        var unavailable = CudaDevice.unavailableReason();
        if (unavailable.isPresent()) {
            throw new IllegalArgumentException("--backend cuda: no usable GPU: " + unavailable.get());
        }
        if (tensorParallel > 1) {
            return new LoadedModel(dir, null, null, tensorParallel,
                    kv -> CudaRanks.open(ordinal, tensorParallel, maxRows, graphs, kv, progress), kvCache, true,
                    progress, WeightCacheOptions.OFF);
        }
        CudaDevice gpu = CudaDevice.open(ordinal);
        try {
            return new LoadedModel(dir, (c, w, kv, cache) -> new CudaBackend(c, w, gpu, maxRows, null, 0, graphs, kv,
                    progress.byteProgress("upload")), gpu, 1, null, kvCache, true, progress, WeightCacheOptions.OFF);
        } catch (RuntimeException e) {
            gpu.close();
            throw e;
        }
    }

    /** The model's name in progress lines: its folder's name. */
    static String name(Path dir) {
        Path name = dir.toAbsolutePath().normalize().getFileName();
        return name == null ? dir.toString() : name.toString();
    }

    /**
     * Checkpoint bytes of the weights the CPU backend copies on first use, each once (a tied head is the embedding;
     * an untied embedding is only gathered from, in place).
     */
    /** {@code dir} with its symlinks resolved; as given when it cannot be (the loaders then say what is missing). */
    private static Path realPath(Path dir) {
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            return dir;
        }
    }

    /** The phase "cache" of {@code progress}, begun only when a cache build writes its first chunk. */
    private static LongConsumer cacheBuild(LoadProgress progress, SafetensorsReader checkpoint) {
        return new LongConsumer() {
            private LongConsumer phase;

            @Override
            public void accept(long bytes) {
                if (phase == null) {
                    long total = 0;
                    for (String name : checkpoint.names()) {
                        total += checkpoint.tensor(name).data().byteSize();
                    }
                    phase = progress.phase("cache", total);
                }
                phase.accept(bytes);
            }
        };
    }

    static long copiedOnFirstUse(ModelWeights w) {
        Set<Tensor> matrices = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : w.tensors()) {
            if (CpuBackend.copiesOnFirstUse(t) && (t != w.embedTokens() || t == w.lmHead())) {
                matrices.add(t);
            }
        }
        long bytes = 0;
        for (Tensor t : matrices) {
            bytes += t.numel() * t.dtype().bytes();
        }
        return bytes;
    }

    public Path dir() {
        return dir;
    }

    public ModelConfig config() {
        return config;
    }

    /** The single-rank forward pass (the decode benchmark and reference tests use it); rank 0's when split. */
    public Transformer transformer() {
        return transformer;
    }

    /** What the engine and generator run: the transformer, or its tensor-parallel split. */
    public ForwardPass forwardPass() {
        return forwardPass;
    }

    public int tensorParallel() {
        return forwardPass instanceof TensorParallelTransformer tp ? tp.tensorParallel() : 1;
    }

    /** The element type and scales of the KV cache that the backend keeps. */
    public KvCacheFormat kvFormat() {
        return kvFormat;
    }

    /** Bytes one token's K and V take in the KV cache, every layer and every rank together. */
    public long kvBytesPerToken() {
        int blockSize = 16;
        return forwardPass.kvBytesPerBlock(blockSize) / blockSize;
    }

    /** Null when the checkpoint folder has no tokenizer.json. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The backend of {@link #transformer()}: rank 0's when the model is split. */
    public Backend backend() {
        return backend;
    }

    /**
     * What runs the model, as GetModelInfo, {@code generate --stats} and the startup log name it: {@code cpu},
     * {@code cuda}, or {@code cuda (emulated)} on the host emulator (NEMOTRON_CUDA_EMULATOR=1), so that an emulated run
     * can never pass for a GPU one.
     */
    public String backendName() {
        if (device == null) {
            return "cpu";
        }
        return device.emulated() ? "cuda (emulated)" : "cuda";
    }

    /** Each rank's GPU (rank r at index r), for the per-rank memory plan; empty on the CPU backend. */
    public List<CudaDevice> cudaDevices() {
        return rankDevices;
    }

    /** Parameters of the checkpoint (every tensor's element count). */
    public long parameters() {
        long n = 0;
        for (String name : weights.names()) {
            n += weights.tensor(name).numel();
        }
        return n;
    }

    /**
     * Bytes a batch-1 decode step streams from memory: every matrix once; the embedding only as the one row it
     * gathers (unless tied, when the lm_head pass reads it whole).
     */
    public long decodeWeightBytes() {
        long bytes = 0;
        for (String name : weights.names()) {
            Tensor t = weights.tensor(name);
            long size = t.numel() * t.dtype().bytes();
            if (name.equals("lm_head.weight") && config.tieWordEmbeddings()) {
                continue; // a tied checkpoint may carry a copy; the model reads the embedding instead
            }
            if (name.equals("model.embed_tokens.weight") && !config.tieWordEmbeddings()) {
                size = (long) t.cols() * t.dtype().bytes();
            }
            bytes += size;
        }
        return bytes;
    }

    @Override
    public void close() {
        if (forwardPass instanceof TensorParallelTransformer tp) {
            tp.close();   // every rank's backend, rank 0's included
        } else {
            backend.close();
        }
        shardArena.close();
        if (device != null) {
            device.close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
        weights.close();
    }
}
