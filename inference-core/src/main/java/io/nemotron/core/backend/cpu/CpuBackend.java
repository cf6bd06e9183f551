package io.nemotron.core.backend.cpu;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvCache;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.weights.Tensor;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Java Vector API backend: weights stay in their memory-mapped segments (BF16 is widened in registers), activations
 * are FP32 arrays of {@code maxRows × widest} values, matmuls run on an owned {@link CpuThreadPool}.
 * Nothing is allocated per token once the norm weights have been widened on first use.
 */
public final class CpuBackend implements Backend {
    private final ModelConfig config;
    private final Tensor embedTokens;
    private final CpuThreadPool pool;
    private final int maxRows;
    private final Map<Buf, float[]> bufs = new EnumMap<>(Buf.class);
    private final Map<Tensor, float[]> normWeights = new IdentityHashMap<>();
    private final Rope rope;
    private final float[] lastRow;
    private final ThreadLocal<float[]> scores;

    public CpuBackend(ModelConfig config, Tensor embedTokens, int threads, int maxRows) {
        this.config = config;
        this.embedTokens = embedTokens;
        this.pool = new CpuThreadPool(threads);
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
        this.lastRow = new float[hidden];
        this.rope = new Rope(config.headDim(), config.ropeTheta(), config.ropeScaling(), config.maxPositionEmbeddings());
        int maxContext = config.maxPositionEmbeddings();
        this.scores = ThreadLocal.withInitial(() -> new float[maxContext]);
    }

    @Override
    public int maxRows() {
        return maxRows;
    }

    public int threads() {
        return pool.threads();
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
            TensorRows.read(embedTokens, id, x, r * hidden);
        }
    }

    @Override
    public void rmsNorm(Buf in, Buf out, Tensor weight, int rows) {
        float[] w = normWeights.computeIfAbsent(weight, TensorRows::vector);
        float[] src = bufs.get(in);
        float[] dst = bufs.get(out);
        int n = w.length;
        float eps = (float) config.rmsNormEps();
        for (int r = 0; r < rows; r++) {
            RmsNorm.apply(src, r * n, w, eps, dst, r * n, n);
        }
    }

    @Override
    public void linear(Buf in, Buf out, Tensor weight, int rows) {
        Linear.forward(pool, weight, bufs.get(in), bufs.get(out), rows);
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
    public void attention(int layer, KvCache cache, int kvHeads, int[] positions, int rows) {
        CpuKvCache kv = (CpuKvCache) cache;
        float[] keys = kv.keys[layer];
        float[] values = kv.values[layer];
        int headDim = config.headDim();
        int heads = config.numAttentionHeads();
        int kvWidth = kvHeads * headDim;
        int qWidth = heads * headDim;
        float[] k = bufs.get(Buf.K);
        float[] v = bufs.get(Buf.V);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(k, r * kvWidth, keys, positions[r] * kvWidth, kvWidth);
            System.arraycopy(v, r * kvWidth, values, positions[r] * kvWidth, kvWidth);
        }
        float[] q = bufs.get(Buf.Q);
        float[] att = bufs.get(Buf.ATT);
        if (rows == 1) {
            // decode: no task object, so a step allocates nothing
            Attention.decode(q, 0, keys, values, positions[0] + 1, heads, kvHeads, headDim, att, 0, scores.get());
            return;
        }
        pool.parallelFor(rows, (from, to) -> {
            float[] s = scores.get();
            for (int r = from; r < to; r++) {
                Attention.decode(q, r * qWidth, keys, values, positions[r] + 1, heads, kvHeads, headDim, att, r * qWidth, s);
            }
        });
    }

    @Override
    public void siluMul(int width, int rows) {
        Silu.mulInPlace(bufs.get(Buf.GATE), bufs.get(Buf.UP), width * rows);
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
    public void logits(Buf in, int row, Tensor lmHead, float[] logits) {
        int hidden = config.hiddenSize();
        System.arraycopy(bufs.get(in), row * hidden, lastRow, 0, hidden);
        Linear.forward(pool, lmHead, lastRow, logits, 1);
    }

    @Override
    public KvCache newKvCache(int capacity) {
        return new CpuKvCache(config, capacity);
    }

    @Override
    public void close() {
        pool.close();
    }
}
