package io.nemotron.core.testing;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.RopeScaling;
import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Fp8E4m3;
import io.nemotron.core.weights.Tensor;
import io.nemotron.core.weights.WeightSource;
import java.util.HashMap;
import java.util.Map;

/**
 * An independent float64 forward pass of a Llama / nemotron-nas checkpoint (full recomputation per call, no cache), for
 * the FP8 oracles of issue 17. It shares no numerics with the backends: its own RoPE frequencies (llama3 scaling),
 * softmax, norms, and its own E4M3 rounding (a nearest search over the code table, ties to the even code).
 *
 * <p>Modes: plain (every weight read as its dtype's value); FP8 linears, where a linear with scales
 * ({@code <m>.weight_scale}, {@code <m>.input_scale} in the checkpoint) computes
 * {@code (E4M3(x / input_scale) · codesᵀ) · input_scale · weight_scale}, as vLLM's ModelOpt FP8 linear; an FP8 KV
 * cache ({@code kvCacheFp8}), where K (after RoPE) and V are read back as {@code E4M3(k / k_scale) · k_scale}. And a
 * calibration record: the largest |x| each linear's input and each layer's K and V reached.
 *
 * <p>Precision ({@link Precision}): the arithmetic is float64 in every mode; the mode says where a value is rounded as
 * a backend stores it. {@link Precision#FLOAT64} rounds nothing (the CPU backend keeps FP32 activations). {@link
 * Precision.Bf16Activations} rounds where the CUDA backend writes a BF16 buffer (CudaBackend: "activations BF16 in
 * device buffers, accumulation FP32 inside every kernel and GEMM, logits FP32"), one point per kernel store:
 * <ul>
 * <li>RMSNorm (rmsnorm.cu {@code scale}): {@code bf16(bf16(x · inv_rms) · w)}, two roundings as HF's LlamaRMSNorm;
 * the final norm before lm_head too ({@code rmsnorm_rows_bf16});</li>
 * <li>every linear but lm_head (Cublas / Fp8Linear, output type BF16): {@code bf16(alpha · Σ)}; lm_head writes FP32
 * logits (CudaBackend.logitsInStep, {@code CUDA_R_32F}), not rounded here;</li>
 * <li>FP8 linear inputs (fp8.cu {@code quantize_one}): {@code E4M3(fl32(x / input_scale))} of the stored BF16 x;</li>
 * <li>row-parallel o_proj and down_proj at TP n (Transformer: linear, then allReduce): each rank's product over its
 * ShardPlan column range is stored as BF16, the all-reduce sums them in float and rounds once (nccl.cpp);
 * column-parallel linears and the vocab-parallel embedding sum zeros elsewhere, which is exact;</li>
 * <li>RoPE (rope.cu): each rotated element is rounded once from its FP32 value;</li>
 * <li>attention (paged_attention.cu): Q, K, V are read as stored, scores, softmax and P·V stay FP32 (the
 * probabilities in shared memory are float), the output is rounded once;</li>
 * <li>FP8 KV cache (kv_cache.cu {@code kv_write_fp8}): K (after RoPE) and V become {@code E4M3(fl32(x / scale))},
 * read as code · scale (the kernels fold the scales into q and the output, equal in real arithmetic); a BF16 cache
 * stores the BF16 K and V as they are;</li>
 * <li>SiLU·mul (elementwise.cu {@code silu_mul_one}): {@code bf16(bf16(silu(g)) · u)};</li>
 * <li>residual adds (elementwise.cu {@code add}): {@code bf16(x + delta)}.</li>
 * </ul>
 * What stays different from the device is FP32 arithmetic inside each kernel (GEMM sums, rsqrtf, expf, the float cos
 * and sin of RoPE) against float64 here: a relative 1e-7-sized difference before a rounding, which moves the stored
 * value by one BF16 ulp wherever it straddles a rounding midpoint (CudaFp8CheckpointGpuTest bounds what that does).
 */
public final class NasFloat64Reference {
    private static final double[] CODE_VALUES = new double[127];   // magnitudes of codes 0x00..0x7E, increasing

    static {
        for (int c = 0; c < 127; c++) {
            CODE_VALUES[c] = Fp8E4m3.decode((byte) c);
        }
    }

    private final ModelConfig config;
    private final WeightSource weights;
    private final boolean kvCacheFp8;
    private final Precision precision;
    private final Map<String, double[]> dense = new HashMap<>();
    private final double[] invFreq;
    /** Largest |input| of each linear module, and of each FULL layer's k_proj / v_proj outputs (K after RoPE). */
    public final Map<String, Double> inputAmax = new HashMap<>();
    public final Map<String, Double> kvAmax = new HashMap<>();

    /** The spec's numerics on float64 activations ({@link Precision#FLOAT64}). */
    public NasFloat64Reference(ModelConfig config, WeightSource weights, boolean kvCacheFp8) {
        this(config, weights, kvCacheFp8, Precision.FLOAT64);
    }

    /** As above, storing activations, FP8 inputs and row-parallel partial sums as {@code precision} says. */
    public NasFloat64Reference(ModelConfig config, WeightSource weights, boolean kvCacheFp8, Precision precision) {
        this.config = config;
        this.weights = weights;
        this.kvCacheFp8 = kvCacheFp8;
        this.precision = precision;
        this.invFreq = invFreq(config);
    }

    /** Logits [position][vocab] of every position of {@code ids}. */
    public double[][] forward(int[] ids) {
        int n = ids.length;
        int hidden = config.hiddenSize();
        double[] embed = matrix("model.embed_tokens.weight");
        double[][] x = new double[n][hidden];
        for (int t = 0; t < n; t++) {
            System.arraycopy(embed, ids[t] * hidden, x[t], 0, hidden);
        }
        for (int i = 0; i < config.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            BlockConfig b = config.blocks().get(i);
            switch (b.attention()) {
                case AttentionKind.Full full -> {
                    double[][] h = norm(x, p + "input_layernorm.weight");
                    add(x, linear(attention(h, p, full.kvHeads()), p + "self_attn.o_proj", Output.ROW_PARALLEL));
                }
                case AttentionKind.Linear linear -> add(x, linear(norm(x, p + "input_layernorm.weight"),
                        p + "self_attn.linear_attn", Output.ACTIVATION));
                case AttentionKind.None none -> { }
            }
            switch (b.ffn()) {
                case FfnKind.Mlp mlp -> {
                    double[][] h = norm(x, p + "post_attention_layernorm.weight");
                    double[][] g = linear(h, p + "mlp.gate_proj", Output.ACTIVATION);
                    double[][] u = linear(h, p + "mlp.up_proj", Output.ACTIVATION);
                    for (int t = 0; t < n; t++) {
                        for (int j = 0; j < g[t].length; j++) {
                            g[t][j] = precision.store(precision.store(g[t][j] / (1 + Math.exp(-g[t][j]))) * u[t][j]);
                        }
                    }
                    add(x, linear(g, p + "mlp.down_proj", Output.ROW_PARALLEL));
                }
                case FfnKind.Linear linear -> add(x, linear(norm(x, p + "post_attention_layernorm.weight"),
                        p + "mlp.linear_mlp", Output.ACTIVATION));
                case FfnKind.None none -> { }
            }
        }
        String head = config.tieWordEmbeddings() || !weights.contains("lm_head.weight") ? "model.embed_tokens" : "lm_head";
        return linear(norm(x, "model.norm.weight"), head, Output.LOGITS);
    }

    /** {@code steps} greedy ids after {@code prompt} (recomputing the whole sequence each step). */
    public int[] greedy(int[] prompt, int steps) {
        int[] seq = java.util.Arrays.copyOf(prompt, prompt.length + steps);
        for (int s = 0; s < steps; s++) {
            double[][] logits = forward(java.util.Arrays.copyOf(seq, prompt.length + s));
            seq[prompt.length + s] = argmax(logits[logits.length - 1]);
        }
        return java.util.Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    public static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The gap between the largest and the second largest value. */
    public static double margin(double[] v) {
        int best = argmax(v);
        double second = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v.length; i++) {
            if (i != best) {
                second = Math.max(second, v[i]);
            }
        }
        return v[best] - second;
    }

    private double[][] attention(double[][] h, String p, int kvHeads) {
        int n = h.length;
        int heads = config.numAttentionHeads();
        int d = config.headDim();
        int group = heads / kvHeads;
        double[][] q = linear(h, p + "self_attn.q_proj", Output.ACTIVATION);
        double[][] k = linear(h, p + "self_attn.k_proj", Output.ACTIVATION);
        double[][] v = linear(h, p + "self_attn.v_proj", Output.ACTIVATION);
        for (int t = 0; t < n; t++) {
            rope(q[t], heads, t);
            rope(k[t], kvHeads, t);
        }
        record("k", p + "self_attn.k_proj", k);
        record("v", p + "self_attn.v_proj", v);
        if (kvCacheFp8) {
            roundTrip(k, scalar(p + "self_attn.k_proj.k_scale"));
            roundTrip(v, scalar(p + "self_attn.v_proj.v_scale"));
        }
        double[][] out = new double[n][heads * d];
        for (int t = 0; t < n; t++) {
            for (int hq = 0; hq < heads; hq++) {
                int kh = hq / group;
                double[] s = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u <= t; u++) {
                    double dot = 0;
                    for (int j = 0; j < d; j++) {
                        dot += q[t][hq * d + j] * k[u][kh * d + j];
                    }
                    s[u] = dot / Math.sqrt(d);
                    max = Math.max(max, s[u]);
                }
                double sum = 0;
                for (int u = 0; u <= t; u++) {
                    s[u] = Math.exp(s[u] - max);
                    sum += s[u];
                }
                for (int u = 0; u <= t; u++) {
                    for (int j = 0; j < d; j++) {
                        out[t][hq * d + j] += s[u] / sum * v[u][kh * d + j];
                    }
                }
                for (int j = 0; j < d; j++) {
                    out[t][hq * d + j] = precision.store(out[t][hq * d + j]);
                }
            }
        }
        return out;
    }

    /** NeoX rotate-half RoPE on each head of row {@code x} at {@code pos}. */
    private void rope(double[] x, int heads, int pos) {
        int d = config.headDim();
        int half = d / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double angle = pos * invFreq[i];
                double c = Math.cos(angle), s = Math.sin(angle);
                double a = x[h * d + i], b = x[h * d + i + half];
                x[h * d + i] = precision.store(a * c - b * s);
                x[h * d + i + half] = precision.store(b * c + a * s);
            }
        }
    }

    private static double[] invFreq(ModelConfig config) {
        int d = config.headDim();
        double[] f = new double[d / 2];
        RopeScaling rs = config.ropeScaling();
        for (int i = 0; i < f.length; i++) {
            double inv = Math.pow(config.ropeTheta(), -2.0 * i / d);
            if (rs != null) {
                double wavelen = 2 * Math.PI / inv;
                double lowWavelen = rs.originalMaxPositionEmbeddings() / rs.lowFreqFactor();
                double highWavelen = rs.originalMaxPositionEmbeddings() / rs.highFreqFactor();
                if (wavelen > lowWavelen) {
                    inv = inv / rs.factor();
                } else if (wavelen >= highWavelen) {
                    double smooth = (rs.originalMaxPositionEmbeddings() / wavelen - rs.lowFreqFactor())
                            / (rs.highFreqFactor() - rs.lowFreqFactor());
                    inv = (1 - smooth) * inv / rs.factor() + smooth * inv;
                }
            }
            f[i] = inv;
        }
        return f;
    }

    private double[][] norm(double[][] x, String weight) {
        double[] w = matrix(weight);
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double ss = 0;
            for (double v : x[t]) {
                ss += v * v;
            }
            double r = 1 / Math.sqrt(ss / x[t].length + config.rmsNormEps());
            out[t] = new double[x[t].length];
            for (int j = 0; j < x[t].length; j++) {
                out[t][j] = precision.store(precision.store(x[t][j] * r) * w[j]);
            }
        }
        return out;
    }

    /** What a linear's output is: a stored activation, a sum of stored per-rank partial sums, or FP32 logits. */
    private enum Output { ACTIVATION, ROW_PARALLEL, LOGITS }

    /**
     * y = W x for module {@code m} ({@code m.weight}), FP8 when the checkpoint holds its scales. A row-parallel output
     * is summed over the ranks' column ranges (ShardPlan's even split: heads for o_proj, intermediate columns for
     * down_proj), each range's product stored before the sum is.
     */
    private double[][] linear(double[][] x, String m, Output output) {
        double amax = inputAmax.getOrDefault(m, 0.0);
        for (double[] row : x) {
            for (double v : row) {
                amax = Math.max(amax, Math.abs(v));
            }
        }
        inputAmax.put(m, amax);
        Tensor w = weights.tensor(m + ".weight");
        double[] codes = matrix(m + ".weight");   // an F8_E4M3 tensor reads as its codes' values
        int rows = w.rows(), cols = w.cols();
        boolean fp8 = weights.contains(m + ".input_scale");
        double inScale = fp8 ? scalar(m + ".input_scale") : 1;
        double factor = fp8 ? inScale * scalar(m + ".weight_scale") : 1;
        int parts = output == Output.ROW_PARALLEL ? precision.rowParallelParts() : 1;
        double[][] y = new double[x.length][rows];
        for (int t = 0; t < x.length; t++) {
            double[] in = x[t];
            if (fp8) {
                in = new double[cols];
                for (int c = 0; c < cols; c++) {
                    in[c] = precision.fp8(x[t][c], inScale);
                }
            }
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                for (int part = 0; part < parts; part++) {
                    double s = 0;
                    for (int c = (int) ((long) cols * part / parts); c < (int) ((long) cols * (part + 1) / parts); c++) {
                        s += codes[r * cols + c] * in[c];
                    }
                    sum += output == Output.LOGITS ? s * factor : precision.store(s * factor);
                }
                y[t][r] = output == Output.LOGITS ? sum : precision.store(sum);
            }
        }
        return y;
    }

    private void record(String which, String module, double[][] rows) {
        double amax = kvAmax.getOrDefault(module, 0.0);
        for (double[] row : rows) {
            for (double v : row) {
                amax = Math.max(amax, Math.abs(v));
            }
        }
        kvAmax.put(module, amax);
    }

    private void roundTrip(double[][] rows, double scale) {
        for (double[] row : rows) {
            for (int j = 0; j < row.length; j++) {
                row[j] = precision.fp8(row[j], scale) * scale;
            }
        }
    }

    /** The E4M3FN value nearest to {@code x} after clamping to ±448, ties to the even code. */
    public static double e4m3(double x) {
        double a = Math.min(Math.abs(x), Fp8E4m3.MAX);
        int lo = 0, hi = CODE_VALUES.length - 1;
        while (hi - lo > 1) {   // CODE_VALUES[lo] <= a <= CODE_VALUES[hi]
            int mid = (lo + hi) >>> 1;
            if (CODE_VALUES[mid] <= a) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        double dl = a - CODE_VALUES[lo], dh = CODE_VALUES[hi] - a;
        int code = dl < dh ? lo : dh < dl ? hi : (lo % 2 == 0 ? lo : hi);
        return Math.copySign(CODE_VALUES[code], x);
    }

    private double scalar(String name) {
        return DTypeCodec.get(weights.tensor(name).dtype(), weights.tensor(name).data(), 0);
    }

    private double[] matrix(String name) {
        return dense.computeIfAbsent(name, key -> {
            Tensor t = weights.tensor(key);
            double[] out = new double[(int) t.numel()];
            for (int i = 0; i < out.length; i++) {
                out[i] = DTypeCodec.get(t.dtype(), t.data(), i);
            }
            return out;
        });
    }

    private void add(double[][] acc, double[][] delta) {
        for (int t = 0; t < acc.length; t++) {
            for (int j = 0; j < acc[t].length; j++) {
                acc[t][j] = precision.store(acc[t][j] + delta[t][j]);
            }
        }
    }
}
