package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.backend.cpu.CpuBuffers;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.weights.Tensor;
import java.util.Map;
import java.util.TreeMap;

/**
 * The CUDA backend checked op by op against its BF16 oracle ({@link Bf16ActivationsBackend}): every op runs on both,
 * the buffer it wrote is compared element by element, and then the GPU's result is copied into the oracle, so that
 * every op is judged on bit-identical inputs (the KV caches stay identical too: the K/V rows are synchronised before
 * {@code attention} writes them). The GPU's own computation is untouched (its buffers are only read), so a forward
 * pass through this backend produces exactly the GPU's logits and greedy ids.
 *
 * <p>Why lockstep: the GPU and the oracle round to BF16 at the same points, but their FP32 arithmetic differs in
 * order (GEMM and attention summation, exp2f against exp, the norm's block reduction), so now and then a value lies
 * close enough to a BF16 rounding midpoint to round the other way: one ulp. Run freely, one such flip in the residual
 * stream or the KV cache perturbs every later op by about one ulp, which flips many more, and after a few steps the
 * two trajectories are as far apart as any two BF16 evaluations (measured: max |logit gpu - oracle| 0.07 on
 * nemotron-nas-tiny, 0.32 on stories260K, as large as |oracle - FP32 CPU|). Compared on the same inputs, each op
 * differs in at most the flips of its own roundings, which is what is asserted.
 */
final class LockstepBackend implements Backend {
    /**
     * Besides a flip at a rounding point, an element may differ by this fraction of its row's largest magnitude: two
     * FP32 evaluation orders of a sum of n terms differ by at most 2·γ_n·Σ|terms| (Higham), γ_n ≈ n·u with
     * u = 2^-23 (FP32 with truncating accumulation, as tensor cores add; 2^-24 when rounding to nearest), and here
     * n <= 256 (the GEMMs' K: 128 and 256 on nemotron-nas-tiny, 64 and 172 on stories260K; contexts <= 224 tokens), so
     * 2^-14 of Σ|terms|; 2^-12 of the row maximum leaves room for Σ|terms| to exceed it 4× (cancellation). That is
     * a sixteenth of the BF16 ulp at the row maximum: a wrong index, head, position, mask or scale errs by whole ulps
     * at the row's scale and cannot hide below it (an attention scale 1% off fails at its first attention op by 3 to
     * 28 ulps). Only elements near zero, whose own ulp is below the reordering error, need it.
     */
    static final double ROW_SLACK = 0x1p-12;

    /**
     * At most this fraction of the elements an op writes may differ at all (summed over a test's steps): a flip needs
     * the FP32 value within the evaluation-order error (<= 2^-14 relative, above) of a BF16 midpoint, and midpoints
     * are at least 2^-8 relative apart, so at most 2·2^-14 / 2^-8 = 2^-5 of uniformly placed values can flip. Measured
     * on the emulator: about 1e-4 to 6e-4 of attention outputs, 2e-5 to 5e-5 of norm outputs, none of any other op. A
     * kernel that rounds where it should not, or not where it should, differs far more often: rmsnorm rounding once
     * instead of twice differs on 26% of its elements, each by one ulp, and fails here.
     */
    static final double FLIP_FRACTION = 0x1p-5;

    final CudaBackend gpu;
    final Bf16ActivationsBackend oracle;
    private final ModelConfig config;
    private final int hidden;
    private final Map<String, long[]> stats = new TreeMap<>();   // op -> {compared, differing, max ulps}
    private long logitsCompared;
    private long logitsDiffering;
    private double logitsWorst;        // max |gpu - oracle|
    private double logitsWorstShare;   // max |gpu - oracle| / bound

    LockstepBackend(ModelConfig config, CudaBackend gpu, Bf16ActivationsBackend oracle) {
        this.config = config;
        this.gpu = gpu;
        this.oracle = oracle;
        this.hidden = config.hiddenSize();
    }

    /** Both backends' pools, one per side, handed out as one. */
    private record Pools(KvPool gpu, KvPool oracle) implements KvPool {
        @Override
        public int numBlocks() {
            return gpu.numBlocks();
        }

        @Override
        public int blockSize() {
            return gpu.blockSize();
        }

        @Override
        public long bytes() {
            return gpu.bytes();
        }
    }

    /** Distance in BF16 ulps of two BF16 values (their bit patterns on a line through zero). */
    static long ulps(float a, float b) {
        return Math.abs(line(a) - line(b));
    }

    private static long line(float f) {
        int bits = Float.floatToRawIntBits(f) >>> 16;
        return (bits & 0x8000) != 0 ? -(long) (bits & 0x7FFF) : bits;
    }

    /**
     * Compares the first {@code count} values of {@code buf} ({@code width} per row) on both sides, then copies the
     * GPU's values into the oracle. {@code roundings}: how many times the op rounds to BF16 on the way to an element,
     * each of which may flip by one ulp (rmsnorm and silu_mul round twice, as their kernel headers document); 0: the
     * op copies and must be bit-identical.
     */
    private void check(String op, Buf buf, int count, int width, int roundings) {
        float[] g = gpu.readBuffer(buf, count);
        float[] o = CpuBuffers.read(oracle.cpu(), buf, count);
        long[] s = stats.computeIfAbsent(op, k -> new long[3]);
        s[0] += count;
        for (int r = 0; r < count / width; r++) {
            double rowMax = 0;
            for (int i = r * width; i < (r + 1) * width; i++) {
                rowMax = Math.max(rowMax, Math.abs(o[i]));
            }
            for (int i = r * width; i < (r + 1) * width; i++) {
                if (Float.floatToIntBits(g[i]) == Float.floatToIntBits(o[i])) {
                    continue;
                }
                s[1]++;
                long u = ulps(g[i], o[i]);
                s[2] = Math.max(s[2], u);
                double diff = Math.abs((double) g[i] - o[i]);
                if (u > roundings && !(roundings > 0 && diff <= ROW_SLACK * rowMax)) {
                    fail(op + ": row " + r + " col " + (i - r * width) + ": gpu " + g[i] + ", bf16 oracle " + o[i] + " ("
                            + u + " BF16 ulps apart, more than " + roundings + " rounding flip(s); |diff| " + diff
                            + " > 2^-12 of the row max " + rowMax + ")");
                }
            }
        }
        CpuBuffers.write(oracle.cpu(), buf, g);
    }

    /** Asserts that rounding flips stayed rare for every op (see {@link #FLIP_FRACTION}); prints the tally. */
    void assertFlipsRare(String what) {
        StringBuilder b = new StringBuilder("GPU vs BF16 oracle, op by op on identical inputs, " + what + ":\n");
        stats.forEach((op, s) -> b.append(String.format("  %-22s %9d elements, %5d differ (%.1e), max %d ulp%n", op,
                s[0], s[1], (double) s[1] / s[0], s[2])));
        b.append(String.format("  %-22s %9d logits,   %5d differ, max |diff| %.3g (%.2f of its bound)%n", "logits",
                logitsCompared, logitsDiffering, logitsWorst, logitsWorstShare));
        System.out.print(b);
        stats.forEach((op, s) -> assertTrue(s[1] <= 1 + FLIP_FRACTION * s[0],
                op + ": " + s[1] + " of " + s[0] + " elements differ from the BF16 oracle\n" + b));
    }

    @Override
    public int maxRows() {
        return gpu.maxRows();
    }

    @Override
    public void beginStep(StepBatch batch) {
        gpu.beginStep(batch);
        oracle.beginStep(batch);
    }

    @Override
    public void endStep() {
        gpu.endStep();
        oracle.endStep();
    }

    @Override
    public void embed(int[] tokenIds, int rows) {
        gpu.embed(tokenIds, rows);
        oracle.embed(tokenIds, rows);
        check("embed", Buf.X, rows * hidden, hidden, 0);   // a copy: bit-identical, no slack
    }

    @Override
    public void rmsNorm(Buf in, Buf out, Tensor weight, int rows) {
        gpu.rmsNorm(in, out, weight, rows);
        oracle.rmsNorm(in, out, weight, rows);
        int width = (int) weight.numel();
        check("rmsNorm", out, rows * width, width, 2);
    }

    @Override
    public void linear(Buf in, Buf out, Tensor weight, int rows) {
        gpu.linear(in, out, weight, rows);
        oracle.linear(in, out, weight, rows);
        check("linear " + in + "->" + out, out, rows * weight.rows(), weight.rows(), 1);
    }

    @Override
    public void linearSlice(Buf in, Buf out, Tensor weight, int offset, int rows) {
        gpu.linearSlice(in, out, weight, offset, rows);
        oracle.linearSlice(in, out, weight, offset, rows);
        check("linearSlice " + in + "->" + out, out, rows * hidden, hidden, 1);
    }

    @Override
    public void rope(Buf buf, int heads, int[] positions, int rows) {
        gpu.rope(buf, heads, positions, rows);
        oracle.rope(buf, heads, positions, rows);
        int width = heads * config.headDim();
        check("rope " + buf, buf, rows * width, width, 1);
    }

    @Override
    public void attention(int layer, int kvHeads, KvPool kv, StepBatch batch) {
        Pools p = (Pools) kv;
        gpu.attention(layer, kvHeads, p.gpu(), batch);
        oracle.attention(layer, kvHeads, p.oracle(), batch);
        int width = config.numAttentionHeads() * config.headDim();
        check(batch.rows == 1 ? "attention (decode)" : "attention (batched)", Buf.ATT, batch.rows * width, width, 1);
    }

    @Override
    public void siluMul(int width, int rows) {
        gpu.siluMul(width, rows);
        oracle.siluMul(width, rows);
        check("siluMul", Buf.GATE, rows * width, width, 2);
    }

    @Override
    public void allReduce(Buf buf, int rows) {
        gpu.allReduce(buf, rows);
        oracle.allReduce(buf, rows);
    }

    @Override
    public void add(Buf acc, Buf delta, int rows) {
        gpu.add(acc, delta, rows);
        oracle.add(acc, delta, rows);
        check("add", acc, rows * hidden, hidden, 1);
    }

    /**
     * The final norm's rows (XB) within their two rounding flips, then each logit within what the normed rows' own
     * difference and FP32 summation order allow (Higham's bound for a dot product of n terms in any order,
     * |fl(s) - s| <= γ_n·Σ|terms|, γ_n = n·u / (1 - n·u), on each side; u below):
     * {@code |gpu - oracle| <= Σ_k |W_vk|·|y_gpu,k - y_oracle,k| + γ_n·(Σ_k |W_vk·y_gpu,k| + Σ_k |W_vk·y_oracle,k|)}.
     */
    @Override
    public void logits(StepBatch batch, Tensor norm, Tensor lmHead, float[] logits) {
        int vocab = lmHead.rows();
        int n = batch.numLogitRows;
        float[] o = new float[n * vocab];
        gpu.logits(batch, norm, lmHead, logits);
        oracle.logits(batch, norm, lmHead, o);
        float[] yo = CpuBuffers.read(oracle.cpu(), Buf.XB, n * hidden);
        check("final rmsNorm", Buf.XB, n * hidden, hidden, 2);
        float[] yg = CpuBuffers.read(oracle.cpu(), Buf.XB, n * hidden);   // the GPU's, after the check's copy
        float[] w = oracle.weights(lmHead);
        double u = 0x1p-23;   // FP32 unit roundoff with truncating accumulation (tensor cores); 2^-24 rounding to nearest
        double gamma = hidden * u / (1 - hidden * u);
        for (int i = 0; i < n; i++) {
            for (int v = 0; v < vocab; v++) {
                double moved = 0;
                double terms = 0;
                for (int k = 0; k < hidden; k++) {
                    double wk = Math.abs(w[v * hidden + k]);
                    moved += wk * Math.abs((double) yg[i * hidden + k] - yo[i * hidden + k]);
                    terms += wk * (Math.abs(yg[i * hidden + k]) + Math.abs(yo[i * hidden + k]));
                }
                double bound = moved + gamma * terms;
                double diff = Math.abs((double) logits[i * vocab + v] - o[i * vocab + v]);
                logitsCompared++;
                if (diff != 0) {
                    logitsDiffering++;
                    logitsWorst = Math.max(logitsWorst, diff);
                    logitsWorstShare = Math.max(logitsWorstShare, diff / bound);
                }
                if (!(diff <= bound)) {
                    fail("logits: row " + i + " token " + v + ": gpu " + logits[i * vocab + v] + ", bf16 oracle "
                            + o[i * vocab + v] + ", |diff| " + diff + " > bound " + bound);
                }
            }
        }
    }

    @Override
    public KvPool newKvPool(int numBlocks, int blockSize) {
        return new Pools(gpu.newKvPool(numBlocks, blockSize), oracle.newKvPool(numBlocks, blockSize));
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
        return gpu.kvBytesPerBlock(blockSize);
    }

    /** Closes both sides. */
    @Override
    public void close() {
        try {
            gpu.close();
        } finally {
            oracle.close();
        }
    }
}
