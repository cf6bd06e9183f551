package io.nemotron.core.backend.cpu;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Tensor;
import io.nemotron.core.backend.Communicator;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongConsumer;

/**
 * Java Vector API backend: weights stay in their memory-mapped segments (BF16 is widened in registers), activations
 * are FP32 arrays of {@code maxRows × widest} values, matmuls run on an owned {@link CpuThreadPool}.
 * Nothing is allocated per token once the norm weights have been widened on first use.
 */
public final class CpuBackend implements Backend {
    private final ModelConfig config;
    private final Tensor embedTokens;
    private final int vocabOffset;          // first token row of embedTokens (vocab-parallel ranks)
    private final Communicator comm;        // null on a single rank
    private final CpuThreadPool pool;
    private final int maxRows;
    private final Map<Buf, float[]> bufs = new EnumMap<>(Buf.class);
    private final Map<Tensor, float[]> normWeights = new IdentityHashMap<>();
    private final Map<Tensor, PackedBF16> packedWeights = new IdentityHashMap<>();   // engine thread only
    private final Map<Tensor, PackedF8> f8Weights = new IdentityHashMap<>();         // engine thread only
    private LongConsumer copiedBytes = bytes -> { };                                  // engine thread only
    // weights matmul has prepared on first use (packed, or looked up in the cache): after the server's warm-up this
    // must not grow (a request would pay for it)
    private volatile long weightPreparations;
    private final CachedWeights cache;      // the weights' run-time layout, mapped from a cache file; null: none
    private final PackedBF16 packedEmbedding;   // the tied embedding when the cache holds it only packed; else null
    // made once: a capturing lambda at each matmul would allocate on every decode step
    private final Function<Tensor, PackedBF16> pack = this::packed;
    private final Function<Tensor, PackedF8> packF8 = this::packedF8;
    private final Rope rope;
    private float[] slice = new float[0];   // linearSlice's product before it is placed at its offset
    private final AttentionJob attentionJob;
    private final KvCacheFormat kvFormat;
    // reusable row tasks for the elementwise ops of batched steps (no allocation per call); set before dispatch
    private int siluWidth;
    private final RangeTask siluRows = (from, to) -> Silu.mulInPlace(bufs.get(Buf.GATE), bufs.get(Buf.UP),
            from * siluWidth, to * siluWidth);
    private float[] normSrc;
    private float[] normDst;
    private float[] normWeight;
    private final float normEps;
    private final RangeTask normRows;

    /** A single rank with an FP32 KV cache. */
    public CpuBackend(ModelConfig config, Tensor embedTokens, int threads, int maxRows) {
        this(config, embedTokens, 0, null, threads, maxRows);
    }

    /** One tensor-parallel rank with an FP32 KV cache (see below). */
    public CpuBackend(ModelConfig config, Tensor embedTokens, int vocabOffset, Communicator comm, int threads,
                      int maxRows) {
        this(config, embedTokens, vocabOffset, comm, threads, maxRows,
                KvCacheFormat.of(KvCacheDtype.FP32, config.numLayers()));
    }

    /**
     * One tensor-parallel rank: {@code config} is the rank's (its heads and widths), {@code embedTokens} holds the
     * token rows from {@code vocabOffset} on, and {@code comm} sums partial results with the other ranks. Its KV pools
     * store {@code kvFormat}'s dtype (scales per layer of {@code config}).
     */
    public CpuBackend(ModelConfig config, Tensor embedTokens, int vocabOffset, Communicator comm, int threads,
                      int maxRows, KvCacheFormat kvFormat) {
        this(config, embedTokens, vocabOffset, comm, threads, maxRows, kvFormat, null);
    }

    /**
     * As above, reading matrices in their run-time layout from {@code cache} ({@link WeightCache}) where it holds them,
     * instead of packing or copying them on first use; null: no cache.
     */
    public CpuBackend(ModelConfig config, Tensor embedTokens, int vocabOffset, Communicator comm, int threads,
                      int maxRows, KvCacheFormat kvFormat, CachedWeights cache) {
        CpuKvPool.checkLayers(config, kvFormat);
        this.cache = cache;
        this.packedEmbedding = cache == null ? null : cache.packed(embedTokens);
        this.kvFormat = kvFormat;
        this.config = config;
        this.vocabOffset = vocabOffset;
        this.comm = comm;
        this.normEps = (float) config.rmsNormEps();
        this.normRows = (from, to) -> {
            int n = normWeight.length;
            for (int r = from; r < to; r++) {
                RmsNorm.apply(normSrc, r * n, normWeight, normEps, normDst, r * n, n);
            }
        };
        this.embedTokens = embedTokens;
        // how long idle workers spin before parking: long enough to bridge the gaps inside one forward pass
        this.pool = new CpuThreadPool(threads, Long.getLong("nemotron.cpu.spin-nanos", CpuThreadPool.DEFAULT_SPIN_NANOS));
        this.maxRows = maxRows;
        int hidden = config.hiddenSize();
        int qWidth = config.numAttentionHeads() * config.headDim();
        int kvWidth = 0;
        int inter = 0;
        for (BlockConfig b : config.blocks()) {
            if (b.attention() instanceof AttentionKind.Full f) {
                kvWidth = Math.max(kvWidth, f.kvHeads() * config.headDim());
            }
            if (b.ffn() instanceof FfnKind.Mlp m) {
                inter = Math.max(inter, m.intermediateSize());
            }
        }
        bufs.put(Buf.X, new float[maxRows * hidden]);
        bufs.put(Buf.XB, new float[maxRows * hidden]);
        bufs.put(Buf.OUT, new float[maxRows * hidden]);
        bufs.put(Buf.Q, new float[maxRows * qWidth]);
        bufs.put(Buf.ATT, new float[maxRows * qWidth]);
        bufs.put(Buf.K, new float[maxRows * kvWidth]);
        bufs.put(Buf.V, new float[maxRows * kvWidth]);
        bufs.put(Buf.GATE, new float[maxRows * inter]);
        bufs.put(Buf.UP, new float[maxRows * inter]);
        this.rope = new Rope(config.headDim(), config.ropeTheta(), config.ropeScaling(), config.maxPositionEmbeddings());
        this.attentionJob = new AttentionJob(config.maxPositionEmbeddings());
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    public int threads() {
        return pool.threads();
    }

    @Override
    public void endStep() {
        pool.rest();
    }

    /** The FP32 activation buffer itself: the op-parity tests put inputs in and read results out through it. */
    float[] buffer(Buf b) {
        return bufs.get(b);
    }

    @Override
    public void embed(int[] tokenIds, int rows) {
        float[] x = bufs.get(Buf.X);
        int hidden = config.hiddenSize();
        for (int r = 0; r < rows; r++) {
            int id = tokenIds[r];
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + config.vocabSize() + ")");
            }
            int local = id - vocabOffset;
            if (local >= 0 && local < embedTokens.rows()) {
                if (packedEmbedding != null) {
                    packedEmbedding.readRow(local, x, r * hidden);
                } else {
                    TensorRows.read(embedTokens, local, x, r * hidden);
                }
            } else {
                // another rank's token: its row arrives through the all-reduce
                Arrays.fill(x, r * hidden, (r + 1) * hidden, 0f);
            }
        }
    }

    @Override
    public void allReduce(Buf buf, int rows) {
        if (buf != Buf.X && buf != Buf.OUT && buf != Buf.XB) {
            throw new IllegalArgumentException("allReduce sums hidden-wide buffers, not " + buf);
        }
        if (comm != null && comm.size() > 1) {
            comm.allReduceSum(bufs.get(buf), 0, rows * config.hiddenSize());
        }
    }

    @Override
    public void rmsNorm(Buf in, Buf out, Tensor weight, int rows) {
        normWeight = normWeights.computeIfAbsent(weight, TensorRows::vector);
        normSrc = bufs.get(in);
        normDst = bufs.get(out);
        rowsOnPool(rows, normRows);
    }

    /** Row-wise elementwise work: inline for a few rows, else split over the pool (each row's bits are the same). */
    private void rowsOnPool(int rows, RangeTask task) {
        if (rows < 4) {
            task.run(0, rows);
        } else {
            pool.parallelForDynamic(rows, Math.max(1, rows / (4 * pool.threads())), task);
        }
    }

    @Override
    public void linear(Buf in, Buf out, Tensor weight, int rows) {
        matmul(weight, bufs.get(in), bufs.get(out), rows);
    }

    @Override
    public void linearSlice(Buf in, Buf out, Tensor weight, int offset, int rows) {
        int hidden = config.hiddenSize();
        int width = weight.rows();
        if (offset == 0 && width == hidden) {
            linear(in, out, weight, rows);
            return;
        }
        if (slice.length < rows * width) {
            slice = new float[maxRows * width];
        }
        matmul(weight, bufs.get(in), slice, rows);
        float[] o = bufs.get(out);
        Arrays.fill(o, 0, rows * hidden, 0f);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(slice, r * width, o, r * hidden + offset, width);
        }
    }

    @Override
    public void rope(Buf buf, int heads, int[] positions, int rows) {
        float[] x = bufs.get(buf);
        int width = heads * config.headDim();
        for (int r = 0; r < rows; r++) {
            rope.apply(x, r * width, heads, positions[r]);
        }
    }

    @Override
    public void attention(int layer, int kvHeads, KvPool kv, StepBatch batch) {
        KvLayer cache = ((CpuKvPool) kv).layer(layer);
        if (cache.kvHeads() != kvHeads) {
            throw new IllegalArgumentException("layer " + layer + " caches " + cache.kvHeads() + " kv heads, not "
                    + kvHeads);
        }
        int kvWidth = kvHeads * config.headDim();
        float[] k = bufs.get(Buf.K);
        float[] v = bufs.get(Buf.V);
        int rows = batch.rows;
        for (int r = 0; r < rows; r++) {
            cache.write(batch.slotMapping[r], k, r * kvWidth, v, r * kvWidth);
        }
        attentionJob.prepare(bufs.get(Buf.Q), bufs.get(Buf.ATT), cache, batch, config.numAttentionHeads());
        if (rows == 1) {
            attentionJob.run(0, 1);   // decode of one sequence: no hand-off
        } else {
            this.pool.parallelForDynamic(rows, 1, attentionJob);   // rows differ in context length
        }
    }

    @Override
    public void siluMul(int width, int rows) {
        siluWidth = width;
        rowsOnPool(rows, siluRows);
    }

    @Override
    public void add(Buf acc, Buf delta, int rows) {
        float[] a = bufs.get(acc);
        float[] d = bufs.get(delta);
        int n = rows * config.hiddenSize();
        for (int i = 0; i < n; i++) {
            a[i] += d[i];
        }
    }

    @Override
    public void logits(StepBatch batch, Tensor norm, Tensor lmHead, float[] logits) {
        int hidden = config.hiddenSize();
        int n = batch.numLogitRows;
        float[] x = bufs.get(Buf.X);
        float[] xb = bufs.get(Buf.XB);
        float[] w = normWeights.computeIfAbsent(norm, TensorRows::vector);
        for (int i = 0; i < n; i++) {
            // only the rows that sample are normed and projected: the vocab matmul is the largest of the step
            RmsNorm.apply(x, batch.logitRows[i] * hidden, w, normEps, xb, i * hidden, hidden);
        }
        matmul(lmHead, xb, logits, n);
    }

    /**
     * BF16 weights are packed on first use (the warm-up step) and kept; so are FP8 weights
     * ({@link PackedF8}); other dtypes are read in place. With a weight cache, both are read from its mapping as they
     * are.
     */
    private void matmul(Tensor weight, float[] in, float[] out, int tokens) {
        if (weight.dtype() == DType.BF16 && weight.shape().length == 2) {
            Linear.forward(pool, packedWeights.computeIfAbsent(weight, pack), in, out, tokens);
        } else if (weight.dtype() == DType.F8_E4M3 && weight.shape().length == 2) {
            Linear.forward(pool, f8Weights.computeIfAbsent(weight, packF8), in, out, tokens);
        } else {
            Linear.forward(pool, weight, in, out, tokens);
        }
    }

    /** Whether {@link #matmul} copies {@code weight} on first use (packs a BF16 or FP8 matrix). */
    public static boolean copiesOnFirstUse(Tensor weight) {
        return weight.shape().length == 2 && (weight.dtype() == DType.BF16 || weight.dtype() == DType.F8_E4M3);
    }

    /**
     * Tells {@code copiedBytes} the checkpoint bytes of each weight as its first use copies it (the load's progress:
     * until the copies are made ahead of time, the warm-up's first step makes them). A weight the cache holds counts
     * as copied when first used too, so that the phase's total is reached either way.
     */
    public void reportCopiesTo(LongConsumer copiedBytes) {
        this.copiedBytes = copiedBytes;
    }

    private <T> T copied(Tensor weight, T copy) {
        copiedBytes.accept(weight.numel() * weight.dtype().bytes());
        weightPreparations++; // only the engine thread writes (see the maps above)
        return copy;
    }

    /** Weights {@link #matmul} has prepared so far on first use: the work the server's warm-up must have done. */
    public long weightPreparations() {
        return weightPreparations;
    }

    private PackedBF16 packed(Tensor weight) {
        PackedBF16 mapped = cache == null ? null : cache.packed(weight);
        return copied(weight, mapped != null ? mapped : PackedBF16.of(weight));
    }

    private PackedF8 packedF8(Tensor weight) {
        PackedF8 mapped = cache == null ? null : cache.packedF8(weight);
        return copied(weight, mapped != null ? mapped : PackedF8.of(weight));
    }

    @Override
    public KvPool newKvPool(int numBlocks, int blockSize) {
        return new CpuKvPool(config, kvFormat, numBlocks, blockSize);
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
        return CpuKvPool.bytesPerBlock(config, kvFormat, blockSize);
    }

    /** The element type and scales of this backend's KV pools. */
    public KvCacheFormat kvFormat() {
        return kvFormat;
    }

    @Override
    public void close() {
        pool.close();
    }
}
