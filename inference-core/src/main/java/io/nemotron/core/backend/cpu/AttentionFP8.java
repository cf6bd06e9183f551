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
 * io.nemotron.core.weights.Fp8E4m3#decodeByBits}) with 2^120 folded into the layer's scale ({@link #code}).
 */
final class AttentionFP8 {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final int SIGN_AND_BITS = 0x87F00000;   // bit 31 and bits 20..26

    private AttentionFP8() {}

    /**
     * Whether blocks hold whole vectors of positions and both scales fold into one multiply (below 2^8; a KV scale is
     * amax/448, so only a cache of values past 10^5 has one that large); else the scalar twin serves.
     */
    static boolean vectorizes(int blockShift, float kScale, float vScale) {
        return (1 << blockShift) >= L && Float.isFinite(fold(kScale)) && Float.isFinite(fold(vScale));
    }

    static void decodePaged(float[] q, int qOff, KvLayerFP8 kv, int[] table, int len, int heads, float[] out,
                            int outOff, float[] scores) {
        int kvHeads = kv.kvHeads();
        int headDim = kv.headDim();
        int shift = kv.blockShift();
        Attention.checkPaged(heads, kvHeads, len, scores, table, shift);
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        boolean pairs = group >= 2 && scores.length >= 2 * len;
        float kFold = fold(kv.kScale);
        for (int h = 0; h < heads; h++) {
            int qh = qOff + h * headDim;
            int kvHead = h / group;
            if (pairs && h % group + 1 < group) {
                // two query heads of one kv head: each key code is decoded once for both
                scoresPair(q, qh, kv, table, len, kvHead, kFold, scale, scores);
                Attention.softmax(scores, 0, len);
                Attention.softmax(scores, len, len);
                valuesOne(scores, 0, kv, table, shift, kvHead, len, out, outOff + h * headDim);
                valuesOne(scores, len, kv, table, shift, kvHead, len, out, outOff + (h + 1) * headDim);
                h++;
                continue;
            }
            scores(q, qh, kv, table, len, kvHead, kFold, scale, scores);
            Attention.softmax(scores, 0, len);
            valuesOne(scores, 0, kv, table, shift, kvHead, len, out, outOff + h * headDim);
        }
    }

    /**
     * Code byte b of each lane, dequantized: decode(code) · scale, given {@code fold} = scale · 2^120. The byte is moved
     * to bits 24..31; an arithmetic shift by 4 puts its 7 exponent and mantissa bits at 20..26 and keeps the sign at
     * 31 (the mask drops the sign's copies at 27..30). That float is decode(code) · 2^-120 exactly, and one multiply
     * by the fold rounds decode(code) · scale once, as the twin's {@code decode(code) * scale} does.
     */
    private static FloatVector code(IntVector x, int b, float fold) {
        IntVector top = b == 3 ? x : x.lanewise(VectorOperators.LSHL, 24 - 8 * b);
        return top.lanewise(VectorOperators.ASHR, 4).and(SIGN_AND_BITS).reinterpretAsFloats().mul(fold);
    }

    /** scale · 2^120, exact (a power-of-two scaling), or infinite for scales of 2^8 and more. */
    static float fold(float scale) {
        return scale * 0x1p120f;
    }

    private static FloatVector at(float[] q, int i) {
        return FloatVector.broadcast(F, q[i]);
    }

    /**
     * Scores of positions [0, len) for the query head at qh, L positions of a block at a time (key quad row j of
     * position i at keys[kOff + j·stride + i]). NOTE: kernels are separate methods with their loops inside: inlined
     * together into one caller they exceeded C2's node budget ({@code NodeCountInliningCutoff}), which left
     * {@link #code} out of line and ran boxed vectors, 10x slower.
     */
    private static void scores(float[] q, int qh, KvLayerFP8 kv, int[] table, int len, int kvHead, float kFold,
                               float scale, float[] scores) {
        int[] k = kv.keys;
        int headDim = kv.headDim();
        int shift = kv.blockShift();
        int stride = 1 << shift;
        for (int p = 0; p < len; p += L) {
            int kOff = kv.keyIndex(AttentionBF16.slot(table, shift, p), kvHead, 0);
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
            int d = 0;
            for (; d + 4 <= headDim; d += 4) {
                IntVector x = IntVector.fromArray(I, k, kOff + (d >> 2) * stride);
                c0 = code(x, 0, kFold).fma(at(q, qh + d), c0);
                c1 = code(x, 1, kFold).fma(at(q, qh + d + 1), c1);
                c2 = code(x, 2, kFold).fma(at(q, qh + d + 2), c2);
                c3 = code(x, 3, kFold).fma(at(q, qh + d + 3), c3);
            }
            if (d < headDim) {
                c0 = tailDims(q, qh, headDim, IntVector.fromArray(I, k, kOff + (d >> 2) * stride), d, kFold, c0);
            }
            AttentionBF16.store(c0.add(c1).add(c2.add(c3)).mul(scale), scores, p, Math.min(L, len - p));
        }
    }

    /** {@link #scores} for the query heads at qh and qh + headDim, their scores at [0, len) and [len, 2·len). */
    private static void scoresPair(float[] q, int qh, KvLayerFP8 kv, int[] table, int len, int kvHead, float kFold,
                                   float scale, float[] scores) {
        int[] k = kv.keys;
        int headDim = kv.headDim();
        int shift = kv.blockShift();
        int stride = 1 << shift;
        int r = qh + headDim;
        for (int p = 0; p < len; p += L) {
            int kOff = kv.keyIndex(AttentionBF16.slot(table, shift, p), kvHead, 0);
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, e0 = c0, e1 = c0, e2 = c0, e3 = c0;
            int d = 0;
            for (; d + 4 <= headDim; d += 4) {
                IntVector x = IntVector.fromArray(I, k, kOff + (d >> 2) * stride);
                FloatVector k0 = code(x, 0, kFold), k1 = code(x, 1, kFold);
                FloatVector k2 = code(x, 2, kFold), k3 = code(x, 3, kFold);
                c0 = k0.fma(at(q, qh + d), c0);
                e0 = k0.fma(at(q, r + d), e0);
                c1 = k1.fma(at(q, qh + d + 1), c1);
                e1 = k1.fma(at(q, r + d + 1), e1);
                c2 = k2.fma(at(q, qh + d + 2), c2);
                e2 = k2.fma(at(q, r + d + 2), e2);
                c3 = k3.fma(at(q, qh + d + 3), c3);
                e3 = k3.fma(at(q, r + d + 3), e3);
            }
            if (d < headDim) {
                IntVector x = IntVector.fromArray(I, k, kOff + (d >> 2) * stride);
                c0 = tailDims(q, qh, headDim, x, d, kFold, c0);
                e0 = tailDims(q, r, headDim, x, d, kFold, e0);
            }
            int valid = Math.min(L, len - p);
            AttentionBF16.store(c0.add(c1).add(c2.add(c3)).mul(scale), scores, p, valid);
            AttentionBF16.store(e0.add(e1).add(e2.add(e3)).mul(scale), scores, len + p, valid);
        }
    }

    /** Dims [d, headDim) (fewer than 4, bytes 0.. of x) onto chain c0, in order. */
    private static FloatVector tailDims(float[] q, int qh, int headDim, IntVector x, int d, float kFold,
                                        FloatVector c0) {
        for (int b = 0; d < headDim; d++, b++) {
            c0 = code(x, b, kFold).fma(at(q, qh + d), c0);
        }
        return c0;
    }

    /**
     * out[0..headDim) = Σ_p w[wOff + p] · value of p: positions 4i and 4i + 2 (bytes 0, 2) on the even chain, 4i + 1
     * and 4i + 3 on the odd one, in order, as FP32's; one vector of dims at a time, then the scalar tail. (Two vectors
     * at a time, ten {@link #code} calls in one method, exceeded C2's node budget as {@link #scores} says.)
     */
    private static void valuesOne(float[] w, int wOff, KvLayerFP8 kv, int[] table, int shift, int kvHead, int len,
                                  float[] out, int outOff) {
        int headDim = kv.headDim();
        float s = fold(kv.vScale);
        int c = 0;
        for (; c + L <= headDim; c += L) {
            valuesVector(w, wOff, kv, table, shift, kvHead, len, c, s, out, outOff);
        }
        AttentionBF16.scalarTail(w, wOff, kv, table, shift, kvHead, len, c, out, outOff);
    }

    /** Dims [c, c + L): two chains. */
    private static void valuesVector(float[] w, int wOff, KvLayerFP8 kv, int[] table, int shift, int kvHead, int len,
                                     int c, float s, float[] out, int outOff) {
        int[] values = kv.values;
        int whole = len & ~3;
        FloatVector a = FloatVector.zero(F), b = a;
        for (int p = 0; p < whole; p += 4) {
            IntVector x = IntVector.fromArray(I, values, kv.valueIndex(AttentionBF16.slot(table, shift, p), kvHead, c));
            a = code(x, 0, s).fma(at(w, wOff + p), a);
            b = code(x, 1, s).fma(at(w, wOff + p + 1), b);
            a = code(x, 2, s).fma(at(w, wOff + p + 2), a);
            b = code(x, 3, s).fma(at(w, wOff + p + 3), b);
        }
        if (whole < len) {
            IntVector x = IntVector.fromArray(I, values,
                    kv.valueIndex(AttentionBF16.slot(table, shift, whole), kvHead, c));
            for (int k = 0; whole + k < len; k++) {
                FloatVector wk = at(w, wOff + whole + k);
                if ((k & 1) == 0) {
                    a = code(x, k, s).fma(wk, a);
                } else {
                    b = code(x, k, s).fma(wk, b);
                }
            }
        }
        a.add(b).intoArray(out, outOff + c);
    }
}
