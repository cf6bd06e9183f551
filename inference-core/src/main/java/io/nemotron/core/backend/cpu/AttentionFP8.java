package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Attention#decodePaged} over an FP8 E4M3 cache ({@link KvLayerFP8}): the same lanes, FMA chains and softmax,
 * so its bits are {@link AttentionScalar}'s on the dequantized values. One int vector load carries four code vectors
 * (key dims 4j .. 4j + 3 of L positions, which are the four score chains; or a value's L dims at four consecutive
 * positions, which alternate between the even and odd chains). A code is decoded by bits ({@link
 * io.nemotron.core.weights.Fp8E4m3#decodeByBits}): its exponent and mantissa placed at float bit 20, its sign at bit
 * 31, times 2^120 (exact), then times the layer's scale: one rounding, the same as {@code decode(code) · scale}.
 */
final class AttentionFP8 {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final int MAGNITUDE = 0x7F << 20;
    private static final int SIGN = 0x80000000;

    private AttentionFP8() {}

    /** Whether blocks hold whole vectors of positions (else the scalar twin serves). */
    static boolean vectorizes(int blockShift) {
        return (1 << blockShift) >= L;
    }

    static void decodePaged(float[] q, int qOff, KvLayerFP8 kv, int[] table, int len, int heads, float[] out,
                            int outOff, float[] scores) {
        int kvHeads = kv.kvHeads();
        int headDim = kv.headDim();
        int shift = kv.blockShift();
        Attention.checkPaged(heads, kvHeads, len, scores, table, shift);
        int group = heads / kvHeads;
        int stride = 1 << shift;
        int kvStride = kvHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        boolean pairs = group >= 2 && scores.length >= 2 * len;
        for (int h = 0; h < heads; h++) {
            int qh = qOff + h * headDim;
            int kvHead = h / group;
            boolean pair = pairs && h % group + 1 < group;
            for (int p = 0; p < len; p += L) {
                int kOff = kv.keyIndex(AttentionBF16.slot(table, shift, p), kvHead, 0);
                int valid = Math.min(L, len - p);
                scoresOne(q, qh, headDim, kv.keys, kOff, stride, kv.kScale, scale, scores, p, valid);
                if (pair) {
                    scoresOne(q, qh + headDim, headDim, kv.keys, kOff, stride, kv.kScale, scale, scores, len + p,
                            valid);
                }
            }
            Attention.softmax(scores, 0, len);
            valuesOne(scores, 0, kv, table, shift, kvStride, kvHead, len, out, outOff + h * headDim);
            if (pair) {
                // the second head of the pair: its scores sit beside the first's, as the FP32 kernel's scratch does
                Attention.softmax(scores, len, len);
                valuesOne(scores, len, kv, table, shift, kvStride, kvHead, len, out, outOff + (h + 1) * headDim);
                h++;
            }
        }
    }

    /** Code byte b of each lane, dequantized: decode(code) · scale. */
    private static FloatVector code(IntVector x, int b, float scale) {
        IntVector magnitude = (b == 3 ? x.lanewise(VectorOperators.LSHR, 4)
                : x.lanewise(VectorOperators.LSHL, 20 - 8 * b)).and(MAGNITUDE);
        IntVector sign = (b == 3 ? x : x.lanewise(VectorOperators.LSHL, 24 - 8 * b)).and(SIGN);
        return magnitude.or(sign).reinterpretAsFloats().mul(0x1p120f).mul(scale);
    }

    private static FloatVector at(float[] q, int i) {
        return FloatVector.broadcast(F, q[i]);
    }

    /** Scores of L positions of a block (key quad row j of position i at k[kOff + j·stride + i]). */
    private static void scoresOne(float[] q, int qh, int headDim, int[] k, int kOff, int stride, float kScale,
                                  float scale, float[] scores, int sOff, int valid) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            IntVector x = IntVector.fromArray(I, k, kOff + (d >> 2) * stride);
            c0 = code(x, 0, kScale).fma(at(q, qh + d), c0);
            c1 = code(x, 1, kScale).fma(at(q, qh + d + 1), c1);
            c2 = code(x, 2, kScale).fma(at(q, qh + d + 2), c2);
            c3 = code(x, 3, kScale).fma(at(q, qh + d + 3), c3);
        }
        if (d < headDim) {
            IntVector x = IntVector.fromArray(I, k, kOff + (d >> 2) * stride);
            for (int b = 0; d < headDim; d++, b++) {
                c0 = code(x, b, kScale).fma(at(q, qh + d), c0);
            }
        }
        AttentionBF16.store(c0.add(c1).add(c2.add(c3)).mul(scale), scores, sOff, valid);
    }

    /**
     * out[0..headDim) = Σ_p w[wOff + p] · value of p: positions 4i and 4i + 2 (bytes 0, 2) on the even chain, 4i + 1
     * and 4i + 3 on the odd one, in order, as FP32's; L dims at a time, then the scalar tail.
     */
    private static void valuesOne(float[] w, int wOff, KvLayerFP8 kv, int[] table, int shift, int kvStride,
                                  int kvHead, int len, float[] out, int outOff) {
        int[] values = kv.values;
        float s = kv.vScale;
        int headDim = kv.headDim();
        int base = kvHead * headDim;
        int whole = len & ~3;
        int c = 0;
        for (; c + L <= headDim; c += L) {
            FloatVector a = FloatVector.zero(F), b = a;
            for (int p = 0; p < whole; p += 4) {
                IntVector x = IntVector.fromArray(I, values,
                        (AttentionBF16.slot(table, shift, p) >> 2) * kvStride + base + c);
                a = code(x, 0, s).fma(at(w, wOff + p), a);
                b = code(x, 1, s).fma(at(w, wOff + p + 1), b);
                a = code(x, 2, s).fma(at(w, wOff + p + 2), a);
                b = code(x, 3, s).fma(at(w, wOff + p + 3), b);
            }
            if (whole < len) {
                IntVector x = IntVector.fromArray(I, values,
                        (AttentionBF16.slot(table, shift, whole) >> 2) * kvStride + base + c);
                a = code(x, 0, s).fma(at(w, wOff + whole), a);
                if (whole + 1 < len) {
                    b = code(x, 1, s).fma(at(w, wOff + whole + 1), b);
                }
                if (whole + 2 < len) {
                    a = code(x, 2, s).fma(at(w, wOff + whole + 2), a);
                }
            }
            a.add(b).intoArray(out, outOff + c);
        }
        AttentionBF16.scalarTail(w, wOff, kv, table, shift, kvHead, len, c, out, outOff);
    }
}
