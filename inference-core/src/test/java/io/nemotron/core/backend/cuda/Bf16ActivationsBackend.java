package io.nemotron.core.backend.cuda;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.backend.cpu.CpuBuffers;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * An independent host oracle for what {@link CudaBackend} computes: the CPU backend (FP32 everywhere) with every
 * activation the CUDA backend stores in BF16 rounded to BF16 (nearest even) at exactly the points the kernels round
 * (each cuda-kernels/src/main/cuda/*.cu header documents its rounding):
 * <ul>
 *   <li>embed: a copy of BF16 table rows, exact on both;
 *   <li>rmsNorm (rmsnorm.cu {@code scale}): FP32 sum of squares, then {@code bf16(bf16(x · inv_rms) · w)}; computed
 *       here, because the CPU's RmsNorm rounds only once (to FP32);
 *   <li>linear / linearSlice (cuBLAS, BF16 in, FP32 accumulation, BF16 out): the CPU's FP32 product rounded once;
 *   <li>rope (rope.cu): the same FP32 expression as the CPU's Rope, rounded once at the end;
 *   <li>attention (paged_attention.cu): Q, K, V are already BF16 values (so the KV cache holds BF16 values, as the
 *       GPU's BF16 pool does), scores / softmax / P·V in FP32, the output rounded once;
 *   <li>siluMul (elementwise.cu): {@code bf16(bf16(silu(g)) · u)}, computed here (the CPU rounds once);
 *   <li>add: {@code bf16(a + d)};
 *   <li>logits: rmsnorm_rows with the two roundings (the normed rows left densely in XB, as both backends leave
 *       them), then lm_head in FP32 (the GEMM writes FP32 logits), summed in increasing k as the emulated cuBLAS does.
 * </ul>
 * What remains between this oracle and the GPU is FP32 arithmetic order (GEMM and attention summation order, exp2f
 * vs exp, the norm's block reduction), which occasionally moves a value across a BF16 rounding boundary.
 * Test-only; it reaches the CPU backend's FP32 buffers through {@link CpuBuffers} (the test-side bridge to
 * CpuBackend's package-private buffer accessor). {@link LockstepBackend} runs it beside the GPU.
 */
final class Bf16ActivationsBackend implements Backend {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final CpuBackend cpu;
    private final ModelConfig config;
    private final int hidden;
    private final int headDim;
    private final float eps;
    private final Map<Tensor, float[]> widened = new IdentityHashMap<>();
    private final Map<Tensor, Tensor> weightOf;

    /**
     * Wraps (and owns) {@code cpu}, built for {@code config}, for a forward pass whose tensors are the GPU's (the
     * checkpoint's): each op runs on {@code weightOf.get(tensor)} (the BF16 rounding the GPU holds), or on the tensor
     * itself where the map has none.
     */
    Bf16ActivationsBackend(ModelConfig config, CpuBackend cpu, Map<Tensor, Tensor> weightOf) {
        this.weightOf = weightOf;
        this.cpu = cpu;
        this.config = config;
        this.hidden = config.hiddenSize();
        this.headDim = config.headDim();
        this.eps = (float) config.rmsNormEps();
    }

    static float bf16(float x) {
        return DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(x));
    }

    /** The first {@code count} values of {@code buf} rounded to BF16 in place. */
    private void round(Buf buf, int count) {
        float[] v = CpuBuffers.read(cpu, buf, count);
        for (int i = 0; i < count; i++) {
            v[i] = bf16(v[i]);
        }
        CpuBuffers.write(cpu, buf, v);
    }

    private Tensor oracleWeight(Tensor t) {
        Tensor r = weightOf.get(t);
        return r != null ? r : t;
    }

    /** A BF16 or F32 tensor widened to FP32 (all of it), cached per tensor. */
    private float[] floats(Tensor t) {
        return widened.computeIfAbsent(t, x -> {
            int n = (int) x.numel();
            float[] out = new float[n];
            MemorySegment d = x.data();
            switch (x.dtype()) {
                case BF16 -> {
                    for (int i = 0; i < n; i++) {
                        out[i] = DTypeCodec.bf16ToFloat(d.getAtIndex(U16, i));
                    }
                }
                case F32 -> MemorySegment.copy(d, F32, 0, out, 0, n);
                default -> throw new IllegalArgumentException("the oracle runs BF16 or F32 weights, not " + x.dtype());
            }
            return out;
        });
    }

    /** rmsnorm.cu's row: FP32 sum of squares, inv_rms = 1/sqrt(mean + eps), then bf16(bf16(x · inv) · w). */
    private void normRow(float[] x, int xOff, float[] w, float[] out, int outOff) {
        int n = w.length;
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += x[xOff + i] * x[xOff + i];
        }
        float inv = (float) (1.0 / Math.sqrt(sum / n + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = bf16(bf16(x[xOff + i] * inv) * w[i]);
        }
    }

    @Override
    public int maxRows() {
        return cpu.maxRows();
    }

    @Override
    public void beginStep(StepBatch batch) {
        cpu.beginStep(batch);
    }

    @Override
    public void endStep() {
        cpu.endStep();
    }

    @Override
    public void embed(int[] tokenIds, int rows) {
        cpu.embed(tokenIds, rows);
        round(Buf.X, rows * hidden);   // a no-op on BF16 tables; keeps the oracle BF16 on any table
    }

    @Override
    public void rmsNorm(Buf in, Buf out, Tensor weight, int rows) {
        float[] w = floats(oracleWeight(weight));
        int n = w.length;
        float[] x = CpuBuffers.read(cpu, in, rows * n);
        float[] y = new float[rows * n];
        for (int r = 0; r < rows; r++) {
            normRow(x, r * n, w, y, r * n);
        }
        CpuBuffers.write(cpu, out, y);
    }

    @Override
    public void linear(Buf in, Buf out, Tensor weight, int rows) {
        cpu.linear(in, out, oracleWeight(weight), rows);
        round(out, rows * weight.rows());
    }

    @Override
    public void linearSlice(Buf in, Buf out, Tensor weight, int offset, int rows) {
        cpu.linearSlice(in, out, oracleWeight(weight), offset, rows);
        round(out, rows * hidden);
    }

    @Override
    public void rope(Buf buf, int heads, int[] positions, int rows) {
        cpu.rope(buf, heads, positions, rows);
        round(buf, rows * heads * headDim);
    }

    @Override
    public void attention(int layer, int kvHeads, KvPool kv, StepBatch batch) {
        cpu.attention(layer, kvHeads, kv, batch);
        round(Buf.ATT, batch.rows * config.numAttentionHeads() * headDim);
    }

    @Override
    public void siluMul(int width, int rows) {
        int n = rows * width;
        float[] g = CpuBuffers.read(cpu, Buf.GATE, n);
        float[] u = CpuBuffers.read(cpu, Buf.UP, n);
        for (int i = 0; i < n; i++) {
            float silu = g[i] / (1f + (float) Math.exp(-g[i]));
            g[i] = bf16(bf16(silu) * u[i]);
        }
        CpuBuffers.write(cpu, Buf.GATE, g);
    }

    @Override
    public void allReduce(Buf buf, int rows) {
        cpu.allReduce(buf, rows);
    }

    @Override
    public void add(Buf acc, Buf delta, int rows) {
        cpu.add(acc, delta, rows);
        round(acc, rows * hidden);
    }

    @Override
    public void logits(StepBatch batch, Tensor norm, Tensor lmHead, float[] logits) {
        float[] w = floats(oracleWeight(norm));
        float[] head = floats(oracleWeight(lmHead));
        int vocab = lmHead.rows();
        int maxRow = 0;
        for (int i = 0; i < batch.numLogitRows; i++) {
            maxRow = Math.max(maxRow, batch.logitRows[i]);
        }
        float[] x = CpuBuffers.read(cpu, Buf.X, (maxRow + 1) * hidden);
        int n = batch.numLogitRows;
        float[] y = new float[n * hidden];
        for (int i = 0; i < n; i++) {
            normRow(x, batch.logitRows[i] * hidden, w, y, i * hidden);
        }
        CpuBuffers.write(cpu, Buf.XB, y);   // the normed rows, densely, where both backends leave them
        lmHead(head, vocab, hidden, y, n, logits);
    }

    /**
     * logits[i·vocab + v] = Σ_k head[v][k] · y[i][k] in FP32, in the emulated cuBLAS's order (float product, float
     * add, increasing k, from +0).
     */
    static void lmHead(float[] head, int vocab, int hidden, float[] y, int rows, float[] logits) {
        for (int i = 0; i < rows; i++) {
            for (int v = 0; v < vocab; v++) {
                float s = 0f;
                for (int k = 0; k < hidden; k++) {
                    s += head[v * hidden + k] * y[i * hidden + k];
                }
                logits[i * vocab + v] = s;
            }
        }
    }

    /** The values, widened to FP32, of the weight the oracle runs for {@code t}. */
    float[] weights(Tensor t) {
        return floats(oracleWeight(t));
    }

    /** The wrapped CPU backend (its buffers are this oracle's state). */
    CpuBackend cpu() {
        return cpu;
    }

    @Override
    public KvPool newKvPool(int numBlocks, int blockSize) {
        return cpu.newKvPool(numBlocks, blockSize);
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
        return cpu.kvBytesPerBlock(blockSize);
    }

    @Override
    public void close() {
        cpu.close();
    }
}
