package io.nemotron.core.backend.cuda;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.backend.cpu.RopeFrequencies;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import io.nemotron.core.backend.DeviceCommunicator;
import io.nemotron.core.weights.ByteProgress;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Tensor;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The {@link Backend} on one GPU: the cuda-kernels fatbin for the elementwise ops, norms, rope and paged attention, and
 * cuBLAS ({@link Cublas}) for every linear layer. All on one {@link CudaStream} the backend creates (non-blocking, so
 * it can be captured), with cuBLAS and NCCL set to it, so each op is ordered after the previous one without events.
 * The step inputs go down ({@link #beginStep}) and the logit rows come back ({@link #logits}) as asynchronous copies
 * through pinned memory on that stream; the one wait of a step is the stream synchronisation after the logits copy,
 * where an asynchronous kernel failure surfaces as a {@link CudaException} (which fails the step; the engine fails its
 * requests and carries on). Synchronous copies remain outside the step path (weights, KV pool zeroing), followed by
 * a context synchronisation, since the legacy stream does not order the backend's non-blocking stream.
 *
 * <p>CUDA graphs ({@link CudaGraphs}): a decode step (one row per sequence) of at most {@code maxBatch} rows is padded
 * to its bucket ({@link GraphBuckets}) and {@link #layers} replays the graph captured for that bucket: the whole
 * forward from the embedding through the last block, NCCL all-reduces included. Everything the graph reads per step
 * comes from fixed device buffers ({@link DecodeGraphInputs}) rewritten before each replay, and the launch geometry
 * depends on the bucket only: split-KV decode is chosen by the bucket ({@code bucket <= SPLIT_MAX_ROWS}), with as many
 * partitions as the longest context the pool holds, of which each row uses those its own context covers. The logits
 * op (final norm, lm_head, copy back) runs eagerly after the replay, as do prefill and mixed steps. A failed capture
 * or replay fails the step like any kernel fault and drops every graph (captured again on demand); so does a new
 * communicator after an aborted tensor-parallel step ({@link DeviceCommunicator#generation()}), since the graphs hold
 * NCCL calls on the old one. The eager decode splits by the same rule wherever it matters (contexts longer than one
 * partition), so greedy outputs are the same with graphs on and off. The sampling op ({@link #sample}) runs eagerly
 * after the replay too, on the same stream; its copy of the ids back is then the step's one wait.
 *
 * <p>Precision: weights BF16 on the device ({@link DeviceWeights}: F32/F16 checkpoints are rounded once at upload),
 * except ModelOpt FP8 linears, which stay E4M3 codes and run through {@link Fp8Linear} (inputs quantized to E4M3
 * values, the weight dequantized into BF16 scratch, the GEMM scaled by input_scale · weight_scale);
 * activations BF16 in device buffers of {@code maxRows × widest} values, accumulation FP32 inside every kernel and GEMM,
 * logits FP32 (the lm_head GEMM writes FP32). This is Hugging Face's BF16 inference (the kernels round as HF's BF16
 * modules do), so the GPU differs from the CPU backend, which keeps FP32 activations, by BF16 rounding noise.
 *
 * <p>KV cache ({@link KvCacheFormat}, {@code --kv-cache-dtype}): BF16 by default; FP8 stores the E4M3 codes of
 * {@code x / scale} with each layer's k/v scale (kv_write_fp8) and the attention kernels read code · scale
 * (paged_attention_*_fp8), half the bytes per block. There is no FP32 cache on the GPU: it is refused naming the flag.
 *
 * <p>Buffers hold rows at the width of the op that wrote them (row r of K at {@code r · kvHeads·headDim} for that
 * layer), as the CPU backend does. Sampling runs on the device ({@link #sample}: sampling.cu), so a step copies back one
 * id per sequence; {@link #logits} still copies whole FP32 rows back for the callers that want logits.
 *
 * <p>Tensor parallelism: one backend per rank and GPU, given the rank's config and weight shard (as the CPU backend
 * is) and a {@link DeviceCommunicator}. {@link #allReduce} is an NCCL all-reduce of the BF16 hidden rows, in place on
 * the rank's stream, so it is ordered after the kernels that wrote them and before those that read them. The
 * embedding is vocab-parallel (the rank's table holds the token rows from {@code vocabStart} on; other tokens' rows
 * are zeros until the all-reduce), and {@link #logits} returns the rank's vocab range only, which
 * {@code TensorParallelTransformer} gathers on the host.
 */
public final class CudaBackend implements Backend {
    /** Logit rows per lm_head GEMM: bounds the FP32 logits buffer (256 × 128256 × 4 B = 131 MB for Ultra). */
    static final int LOGIT_CHUNK = 256;

    private final ModelConfig config;
    private final CudaDevice device;      // not owned
    private final ModelWeights model;     // the tensors the forward pass names; their device copies are in weights
    private final DeviceCommunicator comm;    // null on a single rank
    private final int vocabStart;         // first token row of the embedding (vocab-parallel ranks)
    private final int maxRows;
    private final int hidden;
    private final int headDim;
    private final float eps;
    private final float attentionScale;
    private final CudaModule kernels;
    private final CudaStream stream;            // every op, copy, GEMM and collective of this rank
    private final GraphBuckets buckets;         // null when graphs are off
    private final EmbeddingKernels embedding;
    private final RmsNormKernels norms;
    private final RopeKernels ropes;
    private final KvCacheKernels kvCache;
    private final PagedAttentionKernels pagedAttention;
    private final ElementwiseKernels elementwise;
    private final DeviceSampler sampler;
    private final Cublas blas;
    private final DeviceWeights weights;
    private final KvCacheFormat kvFormat;       // BF16 or FP8 K/V, with the FP8 cache's per-layer scales
    private final Fp8Linear fp8;                // the FP8 linears' dequantizing path; null when the model has none
    private final Map<Buf, DeviceBuffer> bufs = new EnumMap<>(Buf.class);
    private final Map<Buf, Integer> widths = new EnumMap<>(Buf.class);
    private final DeviceBuffer gemmWorkspace;   // cuBLAS's workspace: no GEMM allocates, so GEMMs can be captured
    private final DeviceBuffer invFreq;         // [headDim / 2] float, llama3-scaled by the CPU's RopeFrequencies
    private final DeviceBuffer looseInts;       // [2][maxRows]: ids / positions of calls made outside a step
    private final DeviceBuffer logitsDev;       // [LOGIT_CHUNK][rank's vocab] float
    private final DeviceBuffer logitsFull;      // [LOGIT_CHUNK][vocab] float, the gathered rows a TP rank samples; null on one rank
    private final PinnedHost looseStaging;      // host side of looseInts
    private final PinnedHost logitsHost;        // host side of logitsDev
    private final StepInputs inputs;
    private final List<CudaKvPool> pools = new ArrayList<>();
    private DeviceBuffer stepArgs;              // StepInputs, grown to the largest step seen
    private PinnedHost stepStaging;             // its host side, grown with it
    private DecodeGraphs graphs;                // for the pool of the latest decode step; null before
    private int captureRows;                    // > 0 while a decode graph is captured: its bucket's rows
    private long graphCaptures;
    private long graphReplays;
    private DeviceBuffer partials;              // split-KV partial outputs, grown on demand
    private StepBatch step;                     // the batch whose inputs are on the device, null outside a step
    private int splitPartitionTokens = MemoryPlanner.SPLIT_KV_PARTITION_TOKENS;   // split-KV decode: P (× 32)
    private int splitAboveTokens = splitPartitionTokens;   // ... used when the longest context exceeds one partition
    static final int SPLIT_MAX_ROWS = 16;   // ... and the step has at most this many rows (where CTAs are few)

    /** One GPU, one rank: uploads every weight of {@code weights} and allocates the activation buffers. */
    public CudaBackend(ModelConfig config, ModelWeights model, CudaDevice device, int maxRows) {
        this(config, model, device, maxRows, null, 0);
    }

    /** As above, with decode graphs as {@code graphs} says. */
    public CudaBackend(ModelConfig config, ModelWeights model, CudaDevice device, int maxRows, CudaGraphs graphs) {
        this(config, model, device, maxRows, null, 0, graphs);
    }

    /**
     * One tensor-parallel rank on {@code device}: {@code config} is the rank's (its heads and widths), {@code model} its
     * shard, whose embedding holds the token rows from {@code vocabStart} on, and {@code comm} (null for one rank) sums
     * partial results with the other ranks' GPUs.
     */
    public CudaBackend(ModelConfig config, ModelWeights model, CudaDevice device, int maxRows, DeviceCommunicator comm,
                       int vocabStart) {
        this(config, model, device, maxRows, comm, vocabStart, CudaGraphs.on());
    }

    /** As above, with decode graphs as {@code graphs} says ({@link CudaGraphs#on()} by default). */
    public CudaBackend(ModelConfig config, ModelWeights model, CudaDevice device, int maxRows, DeviceCommunicator comm,
                       int vocabStart, CudaGraphs graphs) {
        this(config, model, device, maxRows, comm, vocabStart, graphs, bf16Cache(config));
    }

    /**
     * As above, with K/V stored as {@code kvFormat} says ({@code --kv-cache-dtype}): BF16 (the default), or FP8 E4M3
     * codes of {@code x / scale} with its per-layer k/v scales, read as code · scale. FP32 is refused naming the flag:
     * the CUDA attention kernels read BF16 and FP8 caches only.
     */
    public CudaBackend(ModelConfig config, ModelWeights model, CudaDevice device, int maxRows, DeviceCommunicator comm,
                       int vocabStart, CudaGraphs graphs, KvCacheFormat kvFormat) {
        this(config, model, device, maxRows, comm, vocabStart, graphs, kvFormat, ByteProgress.NONE);
    }

    /** As above, telling {@code upload} the weight bytes to upload and each copy's bytes (the load's progress). */
    public CudaBackend(ModelConfig config, ModelWeights model, CudaDevice device, int maxRows, DeviceCommunicator comm,
                       int vocabStart, CudaGraphs graphs, KvCacheFormat kvFormat, ByteProgress upload) {
        this(config, model, device, maxRows, comm, vocabStart, graphs, kvFormat,
                (Function<CudaModule, DeviceWeights>) kernels -> DeviceWeights.upload(device, model, upload));
    }

    /** Refuses, naming {@code --kv-cache-dtype}, a KV cache dtype the CUDA kernels do not read (FP32). */
    public static void requireSupported(KvCacheDtype dtype) {
        CudaKvPool.checkDtype(dtype);
    }

    private static KvCacheFormat bf16Cache(ModelConfig config) {
        return KvCacheFormat.of(KvCacheDtype.BF16, config.numLayers());
    }

    /**
     * A backend whose weights are random BF16 values written on the device ({@link DeviceWeights#random}: seeded,
     * norms 1, linear layers U(±1/sqrt(in))), for benchmarks of real shapes without a checkpoint on the host. Run it
     * with {@code new Transformer(config, backend.model(), backend)}.
     */
    public static CudaBackend withRandomWeights(ModelConfig config, CudaDevice device, int maxRows, long seed) {
        return new CudaBackend(config, null, device, maxRows, null, 0, CudaGraphs.on(), bf16Cache(config),
                (Function<CudaModule, DeviceWeights>) kernels -> DeviceWeights.random(device, new FillKernels(kernels),
                        config, seed));
    }

    private CudaBackend(ModelConfig config, ModelWeights model, CudaDevice device, int maxRows, DeviceCommunicator comm,
                        int vocabStart, CudaGraphs graphs, KvCacheFormat kvFormat,
                        Function<CudaModule, DeviceWeights> weightsOf) {
        CudaKvPool.checkDtype(kvFormat.dtype());
        if (kvFormat.kScales().length != config.numLayers()) {
            throw new IllegalArgumentException("the KV cache format has scales for " + kvFormat.kScales().length
                    + " layers, the model has " + config.numLayers());
        }
        if (vocabStart < 0 || vocabStart >= config.vocabSize()) {
            throw new IllegalArgumentException("vocabStart " + vocabStart + " outside the vocabulary [0, "
                    + config.vocabSize() + ")");
        }
        if (comm == null && vocabStart != 0) {
            throw new IllegalArgumentException("a single rank holds the whole vocabulary: vocabStart must be 0, got "
                    + vocabStart);
        }
        if (maxRows < 1 || maxRows > 65535) {
            throw new IllegalArgumentException("maxRows must be in [1, 65535] (a CUDA grid's y extent), got " + maxRows);
        }
        this.config = config;
        this.kvFormat = kvFormat;
        this.device = device;
        this.comm = comm != null && comm.size() > 1 ? comm : null;
        this.vocabStart = vocabStart;
        this.maxRows = maxRows;
        this.buckets = graphs.enabled() ? new GraphBuckets(Math.min(graphs.maxBatch(), maxRows)) : null;
        this.hidden = config.hiddenSize();
        this.headDim = config.headDim();
        this.eps = (float) config.rmsNormEps();
        this.attentionScale = (float) (1.0 / Math.sqrt(headDim));   // as the CPU's Attention
        int heads = config.numAttentionHeads();
        // what the kernels support, checked at load time rather than at the first request
        if (headDim % 2 != 0 || headDim > 128) {
            throw new IllegalArgumentException("the CUDA attention kernels need an even head_dim <= 128, got " + headDim);
        }
        int kvWidth = 0;
        int inter = 0;
        TreeSet<Integer> groups = new TreeSet<>();
        for (BlockConfig b : config.blocks()) {
            if (b.attention() instanceof AttentionKind.Full f) {
                if (heads % f.kvHeads() != 0) {
                    throw new IllegalArgumentException(heads + " heads are not a multiple of " + f.kvHeads() + " kv heads");
                }
                kvWidth = Math.max(kvWidth, f.kvHeads() * headDim);
                groups.add(heads / f.kvHeads());
            }
            if (b.ffn() instanceof FfnKind.Mlp m) {
                inter = Math.max(inter, m.intermediateSize());
            }
        }
        this.inputs = new StepInputs(groups.stream().mapToInt(Integer::intValue).toArray());
        List<AutoCloseable> made = new ArrayList<>();
        device.ensureCurrent();   // kernels, the cuBLAS handle and every buffer belong to this device's context
        try {
            this.kernels = device.loadKernels();
            made.add(kernels);
            this.embedding = new EmbeddingKernels(kernels);
            this.norms = new RmsNormKernels(kernels);
            this.ropes = new RopeKernels(kernels);
            this.kvCache = new KvCacheKernels(kernels);
            this.pagedAttention = new PagedAttentionKernels(kernels);
            this.elementwise = new ElementwiseKernels(kernels);
            this.stream = new CudaStream("GPU " + device.ordinal() + (this.comm != null ? " rank " + this.comm.rank() : ""));
            made.add(stream);
            kernels.launchOn(stream);
            this.sampler = new DeviceSampler(device, new SamplingKernels(kernels), stream);
            made.add(sampler);
            this.blas = Cublas.open();
            made.add(blas);
            blas.setStream(stream.address());
            this.gemmWorkspace = device.allocate(MemoryPlanner.GEMM_WORKSPACE_BYTES, "cuBLAS workspace");
            made.add(gemmWorkspace);
            blas.setWorkspace(gemmWorkspace.address(), gemmWorkspace.bytes());
            this.weights = weightsOf.apply(kernels);
            made.add(this.weights);
            this.model = model != null ? model : weights.model();
            if (this.model.embedTokens().dtype() == DType.F8_E4M3) {
                throw new IllegalArgumentException("tensor " + this.model.embedTokens().name() + " is F8_E4M3: the"
                        + " embedding of a ModelOpt FP8 checkpoint stays BF16, and the CUDA embedding gathers BF16 rows");
            }
            this.fp8 = Fp8Linear.forModel(device, new Fp8Kernels(kernels), blas, this.model, maxRows);
            if (fp8 != null) {
                made.add(fp8);
            }
            widths.put(Buf.X, hidden);
            widths.put(Buf.XB, hidden);
            widths.put(Buf.OUT, hidden);
            widths.put(Buf.Q, heads * headDim);
            widths.put(Buf.ATT, heads * headDim);
            widths.put(Buf.K, kvWidth);
            widths.put(Buf.V, kvWidth);
            widths.put(Buf.GATE, inter);
            widths.put(Buf.UP, inter);
            for (Map.Entry<Buf, Integer> e : widths.entrySet()) {
                if (e.getValue() > 0) {
                    DeviceBuffer b = device.allocate((long) maxRows * e.getValue() * 2, "activations " + e.getKey()
                            + " (" + maxRows + " x " + e.getValue() + " bf16)");
                    made.add(b);
                    bufs.put(e.getKey(), b);
                }
            }
            float[] freq = RopeFrequencies.inverse(headDim, config.ropeTheta(), config.ropeScaling());
            this.invFreq = device.allocate((long) freq.length * 4, "rope inv_freq");
            made.add(invFreq);
            invFreq.upload(freq);
            this.looseInts = device.allocate(2L * maxRows * 4, "loose token ids / positions");
            made.add(looseInts);
            // the rank's vocab range (its lm_head rows); the whole vocabulary on one rank
            this.logitsDev = device.allocate((long) Math.min(maxRows, LOGIT_CHUNK) * this.model.lmHead().rows() * 4,
                    "logits (f32)");
            made.add(logitsDev);
            this.logitsFull = this.comm == null ? null : device.allocate(
                    (long) Math.min(maxRows, LOGIT_CHUNK) * config.vocabSize() * 4, "gathered logits (f32)");
            if (logitsFull != null) {
                made.add(logitsFull);
            }
            this.looseStaging = new PinnedHost(looseInts.bytes(), "loose token ids / positions");
            made.add(looseStaging);
            this.logitsHost = new PinnedHost(logitsDev.bytes(), "logits (f32)");
            made.add(logitsHost);
            // the uploads above are synchronous copies on the legacy stream, which does not order the backend's stream
            device.synchronize("the weight uploads");
        } catch (RuntimeException | Error e) {
            for (int i = made.size() - 1; i >= 0; i--) {
                try {
                    made.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * Split-KV decode settings (tests use small partitions to exercise the reduce on tiny models). A threshold above one
     * partition makes eager decode unsplit where a decode graph of at most SPLIT_MAX_ROWS rows splits (same attention,
     * rounded differently); the default, one partition, keeps them identical. Drops the graphs captured with the old
     * settings.
     */
    void splitKv(int partitionTokens, int aboveTokens) {
        if (partitionTokens < 32 || partitionTokens % 32 != 0) {
            throw new IllegalArgumentException("split-KV partitions are a positive multiple of 32 tokens, got " + partitionTokens);
        }
        this.splitPartitionTokens = partitionTokens;
        this.splitAboveTokens = aboveTokens;
        if (graphs != null) {
            graphs.close();
            graphs = null;
        }
    }

    /**
     * For the op-parity tests (BackendOpParityGpuTest): {@code values} rounded to BF16 (nearest even, as the kernels
     * round) into the start of {@code b}, rows at whatever width the op that reads them uses.
     */
    void writeBuffer(Buf b, float[] values) {
        ensureCurrent();
        short[] bits = new short[values.length];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = DTypeCodec.floatToBf16(values[i]);
        }
        stream.synchronize("the ops before a test write");
        bufs.get(b).uploadAt(0, bits, bits.length);
        device.synchronize("a test write");   // a synchronous copy from pageable memory may return before its DMA ends
    }

    /** For the op-parity tests: the first {@code count} values of {@code b}, widened from BF16 (waits for the ops). */
    float[] readBuffer(Buf b, int count) {
        ensureCurrent();
        short[] bits = new short[count];
        stream.synchronize("the ops before a test read");
        bufs.get(b).download(bits);
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = DTypeCodec.bf16ToFloat(bits[i]);
        }
        return out;
    }

    /** The weights this backend runs: the caller's, or the shape-only tensors of {@link #withRandomWeights}. */
    public ModelWeights model() {
        return model;
    }

    /** The device copies of the weights (tests read random weights back through it). */
    DeviceWeights deviceWeights() {
        return weights;
    }

    /** Bytes of weights on the device. */
    public long weightBytes() {
        return weights.bytes();
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    /** Packs the step's ids, positions, slots, block tables and attention tiles and copies them down in one go. */
    @Override
    public void beginStep(StepBatch batch) {
        if (batch.rows > maxRows) {
            throw new IllegalArgumentException(batch.rows + " rows in a step, the backend holds " + maxRows);
        }
        ensureCurrent();
        step = null;
        inputs.pack(batch);
        long bytes = (long) inputs.length * 4;
        if (stepArgs == null || stepArgs.bytes() < bytes) {
            if (stepArgs != null) {
                stepArgs.close();   // cuMemFree waits for the work that may still read it
                stepArgs = null;
            }
            stepArgs = device.allocate(Math.max(bytes, 64L * 1024), "step inputs");
        }
        if (stepStaging == null || stepStaging.bytes() < stepArgs.bytes()) {
            if (stepStaging != null) {
                stepStaging.awaitCopies();
                stepStaging.close();
                stepStaging = null;
            }
            stepStaging = new PinnedHost(stepArgs.bytes(), "step inputs");
        }
        stepStaging.awaitCopies();   // the previous step's copy from it has run
        stepStaging.ints().put(0, inputs.host, 0, inputs.length);
        stepArgs.uploadAsync(0, stepStaging, 0, bytes, stream);
        stepStaging.copiesEnqueued(stream);
        step = batch;
    }

    /**
     * Runs a decode step's layers from its bucket's graph (capturing the graph at the bucket's first step), or, for
     * any other step or with graphs off, runs {@code layers} eagerly. The graph path stages the step into the graphs'
     * fixed inputs, then launches; nothing it does waits for the device. Every rank of a tensor-parallel model takes
     * the same path for the same batch (the choice depends on the batch and the pool only), so their captured NCCL
     * calls meet in the same order.
     */
    @Override
    public void layers(StepBatch batch, KvPool kv, Runnable layers) {
        if (buckets == null || !(kv instanceof CudaKvPool pool) || step != batch) {
            layers.run();
            return;
        }
        ensureCurrent();
        DecodeGraphs g = graphsFor(pool);
        if (comm != null) {
            g.checkGeneration(comm.generation());
        }
        int bucket = g.bucketFor(batch);
        if (bucket < 0) {
            layers.run();
            return;
        }
        try {
            g.stage(batch, bucket, stream);
            if (g.exec(bucket) == null) {
                captureRows = bucket;
                try {
                    g.capture(bucket, stream, layers);
                } finally {
                    captureRows = 0;
                }
                graphCaptures++;
            }
            g.replay(bucket, stream);
            graphReplays++;
        } catch (RuntimeException | Error e) {
            try {
                g.clear();   // a fault may have hit a graph's work: capture afresh rather than trust it
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The decode graphs over {@code pool}, made at its first decode step (those of another pool are dropped). */
    private DecodeGraphs graphsFor(CudaKvPool pool) {
        if (graphs != null && graphs.pool() == pool) {
            return graphs;
        }
        if (graphs != null) {
            graphs.close();
            graphs = null;
        }
        boolean full = config.blocks().stream().anyMatch(b -> b.attention() instanceof AttentionKind.Full);
        graphs = new DecodeGraphs(device, stream, pool, buckets, config.maxPositionEmbeddings(),
                config.numAttentionHeads(), headDim, splitPartitionTokens, SPLIT_MAX_ROWS, full);
        return graphs;
    }

    /** Decode graphs captured so far (one per bucket, again after a failure or a new communicator). */
    public long graphCaptures() {
        return graphCaptures;
    }

    /** The batch sizes (buckets) whose decode graphs are captured now, ascending; empty with graphs off. */
    public int[] capturedGraphBuckets() {
        return graphs == null ? new int[0] : graphs.captured();
    }

    /** Decode steps run by replaying a graph. */
    public long graphReplays() {
        return graphReplays;
    }

    /**
     * A CUDA context is current per thread, the engine runs steps on its own thread, and one thread may drive several
     * ranks' devices: each entry point makes this device's primary context current unless it already is
     * ({@link CudaDevice#ensureCurrent()}, a thread-local identity check).
     */
    private void ensureCurrent() {
        device.ensureCurrent();
    }

    private long stepAddress(int intOffset) {
        return stepArgs.address() + 4L * intOffset;
    }

    private long buf(Buf b) {
        DeviceBuffer d = bufs.get(b);
        if (d == null) {
            throw new IllegalArgumentException("this model has no " + b + " buffer");
        }
        return d.address();
    }

    private long weight(Tensor t) {
        return weights.of(t).address();
    }

    /** The rows an op runs: the bucket's while a decode graph is captured (pad rows included), else the caller's. */
    private int rows(int rows) {
        return captureRows > 0 ? captureRows : rows;
    }

    /** Copies {@code count} ints of {@code values} to byte offset {@code at} of looseInts, in stream order. */
    private void uploadLoose(long at, int[] values, int count) {
        looseStaging.awaitCopies();
        looseStaging.ints().put((int) (at / Integer.BYTES), values, 0, count);
        looseInts.uploadAsync(at, looseStaging, at, (long) count * Integer.BYTES, stream);
        looseStaging.copiesEnqueued(stream);
    }

    @Override
    public void embed(int[] tokenIds, int rows) {
        ensureCurrent();
        for (int r = 0; r < rows; r++) {
            int id = tokenIds[r];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        long ids;
        if (captureRows > 0) {
            ids = graphs.input(graphs.layout().tokens);
        } else if (step != null && tokenIds == step.tokenIds && rows == step.rows) {
            ids = stepAddress(inputs.tokens);
        } else {
            uploadLoose(0, tokenIds, rows);
            ids = looseInts.address();
        }
        // a vocab-parallel rank writes zeros for the tokens it does not hold; their rows arrive through the all-reduce
        Tensor table = model.embedTokens();
        embedding.embeddingGatherBf16(buf(Buf.X), weight(table), ids, hidden, vocabStart, table.rows(), rows(rows));
    }

    @Override
    public void rmsNorm(Buf in, Buf out, Tensor weight, int rows) {
        int width = (int) weight.numel();
        norms.rmsnormBf16(buf(out), buf(in), weight(weight), width, eps, rows(rows));
    }

    @Override
    public void linear(Buf in, Buf out, Tensor weight, int rows) {
        checkWidths(in, out, weight);
        gemm(weight, buf(in), buf(out), weight.rows(), Cublas.CUDA_R_16BF, rows(rows), weight.name());
    }

    /**
     * {@code out[t][r] = Σ_c W[r][c] · in[t][c]} for {@code rows} dense input rows (at the weight's in_features),
     * written at {@code outStride}: cuBLAS's BF16 GEMM, or for an FP8 weight the dequantizing path ({@link Fp8Linear}).
     */
    private void gemm(Tensor w, long in, long out, int outStride, int outType, int rows, String what) {
        if (w.dtype() == DType.F8_E4M3) {
            fp8.linear(w, weight(w), in, out, outStride, outType, rows, what);
        } else {
            blas.linear(weight(w), w.rows(), w.cols(), in, w.cols(), out, outStride, outType, rows, what);
        }
    }

    private void checkWidths(Buf in, Buf out, Tensor weight) {
        if (weight.cols() > widths.get(in) || weight.rows() > widths.get(out)) {
            throw new IllegalArgumentException(weight.name() + " " + weight.shapeString() + " does not fit " + in + " ("
                    + widths.get(in) + ") -> " + out + " (" + widths.get(out) + ")");
        }
    }

    @Override
    public void linearSlice(Buf in, Buf out, Tensor weight, int offset, int rows) {
        int width = weight.rows();
        if (offset == 0 && width == hidden) {
            linear(in, out, weight, rows);
            return;
        }
        if (offset < 0 || offset + width > widths.get(out) || weight.cols() > widths.get(in)) {
            throw new IllegalArgumentException(weight.name() + " " + weight.shapeString() + " at column " + offset
                    + " does not fit " + in + " -> " + out);
        }
        // zero the whole rows, then the GEMM writes the slice in place: C's leading dimension is the hidden row
        int outWidth = widths.get(out);
        int n = rows(rows);
        bufs.get(out).zeroAsync(0, (long) n * outWidth * 2, stream);
        gemm(weight, buf(in), buf(out) + 2L * offset, outWidth, Cublas.CUDA_R_16BF, n,
                weight.name() + " slice at " + offset);
    }

    @Override
    public void rope(Buf buf, int heads, int[] positions, int rows) {
        long pos;
        if (captureRows > 0) {
            pos = graphs.input(graphs.layout().positions);
        } else if (step != null && positions == step.positions && rows == step.rows) {
            pos = stepAddress(inputs.positions);
        } else {
            for (int r = 0; r < rows; r++) {
                if (positions[r] < 0 || positions[r] >= config.maxPositionEmbeddings()) {
                    throw new IndexOutOfBoundsException("RoPE position " + positions[r] + " outside [0, "
                            + config.maxPositionEmbeddings() + ")");
                }
            }
            uploadLoose(4L * maxRows, positions, rows);
            pos = looseInts.address() + 4L * maxRows;
        }
        int width = heads * headDim;
        ropes.ropeBf16(buf(buf), width, pos, invFreq.address(), heads, headDim, rows(rows));
    }

    @Override
    public void attention(int layer, int kvHeads, KvPool kv, StepBatch batch) {
        if (captureRows > 0) {
            attendInGraph(layer, kvHeads, (CudaKvPool) kv);
            return;
        }
        boolean outside = uploadIfOutsideAStep(batch);
        try {
            attendInStep(layer, kvHeads, kv, batch);
        } finally {
            if (outside) {
                step = null;
            }
        }
    }

    /**
     * An op given a batch outside a step (or another step's batch) uploads that batch's inputs for itself only: the
     * caller may refill the same StepBatch object afterwards, so identity must not vouch for what is on the device.
     */
    private boolean uploadIfOutsideAStep(StepBatch batch) {
        if (batch == step) {
            return false;
        }
        beginStep(batch);
        return true;
    }

    /**
     * The step is over: its StepBatch is refilled for the next one, so its arrays no longer describe the inputs on the
     * device (an op called before the next beginStep uploads its own).
     */
    @Override
    public void endStep() {
        step = null;
    }

    private void attendInStep(int layer, int kvHeads, KvPool kv, StepBatch batch) {
        CudaKvPool pool = (CudaKvPool) kv;
        long kc = pool.keys(layer).address();
        long vc = pool.values(layer).address();
        if (pool.dtype() != kvFormat.dtype()) {
            throw new IllegalStateException("a " + pool.dtype().label() + " KV pool given to a backend whose cache is "
                    + kvFormat.dtype().label());
        }
        int rows = batch.rows;
        int heads = config.numAttentionHeads();
        int qWidth = heads * headDim;
        int log2 = pool.blockSizeLog2();
        kvWrite(layer, kc, vc, kvHeads, stepAddress(inputs.slots), log2, rows);
        long tables = stepAddress(inputs.tables);
        long seqOfRow = stepAddress(inputs.seqOfRow);
        long positions = stepAddress(inputs.positions);
        if (inputs.decodeOnly) {
            if (rows <= SPLIT_MAX_ROWS && inputs.maxContext > splitAboveTokens) {
                int p = splitPartitionTokens;
                int parts = (inputs.maxContext + p - 1) / p;
                long slots = (long) rows * heads * parts;
                DeviceBuffer part = partials(slots * (headDim + 2) * 4);
                long out = part.address();
                long max = out + slots * headDim * 4;
                long sum = max + slots * 4;
                decodeAttention(layer, kc, vc, tables, inputs.tableStride, seqOfRow, positions, kvHeads, log2, p, out,
                        max, sum, parts, rows);
                pagedAttention.pagedAttentionReduceBf16(buf(Buf.ATT), qWidth, out, max, sum, positions, heads, headDim,
                        p, parts, rows);
            } else {
                // unsplit: partition_tokens 0, and null (0) for the partial buffers the kernel then never reads
                decodeAttention(layer, kc, vc, tables, inputs.tableStride, seqOfRow, positions, kvHeads, log2, 0, 0L,
                        0L, 0L, 0, rows);
            }
        } else {
            int g = inputs.groupIndex(heads / kvHeads);
            prefillAttention(layer, kc, vc, tables, inputs.tableStride, seqOfRow, positions,
                    stepAddress(inputs.tileStarts[g]), stepAddress(inputs.tileRows[g]), kvHeads, log2,
                    inputs.tileCount[g]);
        }
    }

    /**
     * The decode attention of a graph of {@code captureRows} rows, reading the graph's fixed inputs: split-KV for
     * buckets of at most SPLIT_MAX_ROWS rows over as many partitions as the pool's longest context needs (each row's
     * CTAs past its own context exit at once, and the reduce reads only its own partitions), unsplit above.
     */
    private void attendInGraph(int layer, int kvHeads, CudaKvPool pool) {
        if (pool != graphs.pool()) {
            throw new IllegalStateException("a decode graph for one KV pool was captured with another");
        }
        DecodeGraphInputs in = graphs.layout();
        long kc = pool.keys(layer).address();
        long vc = pool.values(layer).address();
        int rows = captureRows;
        int heads = config.numAttentionHeads();
        int qWidth = heads * headDim;
        int log2 = pool.blockSizeLog2();
        long positions = graphs.input(in.positions);
        long tables = graphs.input(in.tables);
        long seqOfRow = graphs.input(in.seqOfRow);
        kvWrite(layer, kc, vc, kvHeads, graphs.input(in.slots), log2, rows);
        if (rows <= SPLIT_MAX_ROWS) {
            int p = splitPartitionTokens;
            int parts = graphs.maxPartitions();
            long slots = (long) rows * heads * parts;
            long out = graphs.partials().address();
            long max = out + slots * headDim * 4;
            long sum = max + slots * 4;
            decodeAttention(layer, kc, vc, tables, in.stride, seqOfRow, positions, kvHeads, log2, p, out, max, sum,
                    parts, rows);
            pagedAttention.pagedAttentionReduceBf16(buf(Buf.ATT), qWidth, out, max, sum, positions, heads, headDim, p,
                    parts, rows);
        } else {
            decodeAttention(layer, kc, vc, tables, in.stride, seqOfRow, positions, kvHeads, log2, 0, 0L, 0L, 0L, 0,
                    rows);
        }
    }

    /** K and V of the step's rows into layer {@code layer}'s pool at their slots, in the cache's dtype. */
    private void kvWrite(int layer, long kc, long vc, int kvHeads, long slots, int log2, int rows) {
        int kvWidth = kvHeads * headDim;
        if (kvFormat.dtype() == KvCacheDtype.FP8) {
            kvCache.kvWriteFp8(kc, vc, buf(Buf.K), buf(Buf.V), kvWidth, slots, kvHeads, headDim, log2,
                    kvFormat.kScale(layer), kvFormat.vScale(layer), rows);
        } else {
            kvCache.kvWriteBf16(kc, vc, buf(Buf.K), buf(Buf.V), kvWidth, slots, kvHeads, headDim, log2, rows);
        }
    }

    /** The decode attention kernel of the cache's dtype, Q to ATT (partitionTokens 0: unsplit, no partials). */
    private void decodeAttention(int layer, long kc, long vc, long tables, int tableStride, long seqOfRow,
                                 long positions, int kvHeads, int log2, int partitionTokens, long partOut, long partMax,
                                 long partSum, int parts, int rows) {
        int heads = config.numAttentionHeads();
        int qWidth = heads * headDim;
        if (kvFormat.dtype() == KvCacheDtype.FP8) {
            pagedAttention.pagedAttentionDecodeFp8(buf(Buf.ATT), qWidth, buf(Buf.Q), qWidth, kc, vc, tables,
                    tableStride, seqOfRow, positions, heads, kvHeads, headDim, log2, attentionScale, partitionTokens,
                    partOut, partMax, partSum, parts, kvFormat.kScale(layer), kvFormat.vScale(layer), rows);
        } else {
            pagedAttention.pagedAttentionDecodeBf16(buf(Buf.ATT), qWidth, buf(Buf.Q), qWidth, kc, vc, tables,
                    tableStride, seqOfRow, positions, heads, kvHeads, headDim, log2, attentionScale, partitionTokens,
                    partOut, partMax, partSum, parts, rows);
        }
    }

    /** The prefill attention kernel of the cache's dtype over {@code tiles} tiles of rows, Q to ATT. */
    private void prefillAttention(int layer, long kc, long vc, long tables, int tableStride, long seqOfRow,
                                  long positions, long tileStarts, long tileRows, int kvHeads, int log2, int tiles) {
        int heads = config.numAttentionHeads();
        int qWidth = heads * headDim;
        if (kvFormat.dtype() == KvCacheDtype.FP8) {
            pagedAttention.pagedAttentionPrefillFp8(buf(Buf.ATT), qWidth, buf(Buf.Q), qWidth, kc, vc, tables,
                    tableStride, seqOfRow, positions, tileStarts, tileRows, heads, kvHeads, headDim, log2,
                    attentionScale, kvFormat.kScale(layer), kvFormat.vScale(layer), tiles);
        } else {
            pagedAttention.pagedAttentionPrefillBf16(buf(Buf.ATT), qWidth, buf(Buf.Q), qWidth, kc, vc, tables,
                    tableStride, seqOfRow, positions, tileStarts, tileRows, heads, kvHeads, headDim, log2,
                    attentionScale, tiles);
        }
    }

    private DeviceBuffer partials(long bytes) {
        if (graphs != null && graphs.partials() != null && graphs.partials().bytes() >= bytes) {
            return graphs.partials();   // same stream, one op at a time: the eager steps may use the graphs' buffer
        }
        if (partials == null || partials.bytes() < bytes) {
            if (partials != null) {
                partials.close();
                partials = null;
            }
            partials = device.allocate(bytes, "split-KV partials");
        }
        return partials;
    }

    @Override
    public void siluMul(int width, int rows) {
        long gate = buf(Buf.GATE);
        elementwise.siluMulBf16(gate, width, gate, buf(Buf.UP), width, width, rows(rows));
    }

    @Override
    public void allReduce(Buf buf, int rows) {
        if (buf != Buf.X && buf != Buf.OUT && buf != Buf.XB) {
            throw new IllegalArgumentException("allReduce sums hidden-wide buffers, not " + buf);
        }
        if (comm != null) {
            // BF16 in place on the backend's stream: after the kernels that wrote it, before those that read it
            comm.allReduceSum(buf(buf), (long) rows(rows) * hidden, DType.BF16, stream.address());
        }
    }

    @Override
    public void add(Buf acc, Buf delta, int rows) {
        elementwise.addBf16(buf(acc), buf(delta), (long) rows(rows) * hidden);
    }

    @Override
    public void logits(StepBatch batch, Tensor norm, Tensor lmHead, float[] logits) {
        boolean outside = uploadIfOutsideAStep(batch);
        try {
            logitsInStep(batch, norm, lmHead, logits);
        } finally {
            if (outside) {
                step = null;
            }
        }
    }

    private void logitsInStep(StepBatch batch, Tensor norm, Tensor lmHead, float[] logits) {
        int vocab = lmHead.rows();
        int n = batch.numLogitRows;
        int chunk = Math.min(maxRows, LOGIT_CHUNK);
        for (int i0 = 0; i0 < n; i0 += chunk) {
            int c = Math.min(chunk, n - i0);
            // only the rows that sample are normed (into XB, densely) and projected
            norms.rmsnormRowsBf16(buf(Buf.XB), buf(Buf.X), weight(norm), stepAddress(inputs.logitRows + i0), hidden, eps,
                    c);
            gemm(lmHead, buf(Buf.XB), logitsDev.address(), vocab, Cublas.CUDA_R_32F, c, lmHead.name());
            // the one wait of a step: for its work (reporting its failures) and this copy, through pinned memory
            logitsDev.downloadAsync(0, logitsHost, 0, (long) c * vocab * Float.BYTES, stream);
            stream.synchronize("the step's ops and the logits copy");
            logitsHost.floats().get(0, logits, i0 * vocab, c * vocab);
        }
    }

    /** Samples on the device: only the ids (and the raw rows of those that asked for logprobs) come back. */
    @Override
    public boolean samplesOnDevice() {
        return true;
    }

    /**
     * The sampling op on the device, LOGIT_CHUNK rows at a time: final norm and lm_head into FP32 logits; on a
     * vocab-parallel rank each rank writes its columns into zeroed full-width rows and an FP32 all-reduce assembles
     * them (each element is written by one rank and the others add exact zeros, so the rows equal the gathered
     * logits; twice an all-gather's traffic, in exchange for rows the kernels read as they are). The rank given
     * {@code out} then samples them ({@link DeviceSampler}); its copy of the ids back is the step's synchronising call.
     */
    @Override
    public void sample(StepBatch batch, Tensor norm, Tensor lmHead, SamplingBatch sampling, SampledTokens out) {
        if (out != null && sampling.rows != batch.numLogitRows) {
            throw new IllegalArgumentException("the sampling batch has " + sampling.rows + " rows, the step "
                    + batch.numLogitRows + " logit rows");
        }
        boolean outside = uploadIfOutsideAStep(batch);
        try {
            sampleInStep(batch, norm, lmHead, sampling, out);
        } finally {
            if (outside) {
                step = null;
            }
        }
    }

    private void sampleInStep(StepBatch batch, Tensor norm, Tensor lmHead, SamplingBatch sampling, SampledTokens out) {
        int vocab = config.vocabSize();
        int n = batch.numLogitRows;
        int chunk = Math.min(maxRows, LOGIT_CHUNK);
        DeviceBuffer rowsBuf = comm == null ? logitsDev : logitsFull;
        for (int i0 = 0; i0 < n; i0 += chunk) {
            int c = Math.min(chunk, n - i0);
            norms.rmsnormRowsBf16(buf(Buf.XB), buf(Buf.X), weight(norm), stepAddress(inputs.logitRows + i0), hidden, eps,
                    c);
            if (comm == null) {
                gemm(lmHead, buf(Buf.XB), logitsDev.address(), vocab, Cublas.CUDA_R_32F, c, lmHead.name());
            } else {
                logitsFull.zeroAsync(0, (long) c * vocab * 4, stream);
                gemm(lmHead, buf(Buf.XB), logitsFull.address() + 4L * vocabStart, vocab, Cublas.CUDA_R_32F, c,
                        lmHead.name() + " into columns from " + vocabStart);
                comm.allReduceSum(logitsFull.address(), (long) c * vocab, DType.F32, stream.address());
            }
            if (out != null) {
                sampler.sample(rowsBuf, vocab, sampling, i0, c, out);
            }
        }
    }

    @Override
    public KvPool newKvPool(int numBlocks, int blockSize) {
        ensureCurrent();
        CudaKvPool pool = new CudaKvPool(device, config, numBlocks, blockSize, kvFormat.dtype());
        pools.add(pool);
        try {
            device.synchronize("zeroing the KV pool");   // on the legacy stream, which does not order the backend's
        } catch (RuntimeException e) {
            pools.remove(pool);
            try {
                pool.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return pool;
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
        return CudaKvPool.bytesPerBlock(config, blockSize, kvFormat.dtype());
    }

    @Override
    public void close() {
        ensureCurrent();
        List<AutoCloseable> all = new ArrayList<>();
        if (graphs != null) {
            all.add(graphs);
        }
        all.addAll(pools);
        all.addAll(bufs.values());
        for (DeviceBuffer b : new DeviceBuffer[] {stepArgs, partials, invFreq, looseInts, logitsDev, logitsFull}) {
            if (b != null) {
                all.add(b);
            }
        }
        for (PinnedHost h : new PinnedHost[] {stepStaging, looseStaging, logitsHost}) {
            if (h != null) {
                all.add(h);
            }
        }
        all.add(sampler);
        if (fp8 != null) {
            all.add(fp8);
        }
        all.add(weights);
        all.add(blas);
        all.add(gemmWorkspace);   // after the handle that uses it
        all.add(kernels);
        all.add(stream);
        RuntimeException first = null;
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                }
            }
        }
        pools.clear();
        bufs.clear();
        graphs = null;
        if (first != null) {
            throw first;
        }
    }
}
