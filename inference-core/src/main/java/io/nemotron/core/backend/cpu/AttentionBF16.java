package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Attention#decodePaged} over a BF16 cache ({@link KvLayerBF16}): the same lanes (L positions of a block per
 * score vector, L head dims per value vector), the same FMA chains and the same softmax, so its bits are
 * {@link AttentionScalar}'s on the widened values. One int vector load carries two BF16 vectors, widened by
 * {@code << 16} (low half) and {@code & 0xFFFF0000} (high half): key dims d and d + 1 of L positions, or a value's L
 * dims at positions p and p + 1, which is the FP32 kernel's even/odd pair of positions. Half the bytes of FP32 per
 * position, which is what attention over a long context waits on.
 */
final class AttentionBF16 {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final int HIGH = 0xFFFF0000;

    private AttentionBF16() {}

    /** Whether blocks hold whole vectors of positions (else the scalar twin serves). */
    static boolean vectorizes(int blockShift) {
        return (1 << blockShift) >= L;
    }

    static void decodePaged(float[] q, int qOff, KvLayerBF16 kv, int[] table, int len, int heads, float[] out,
                            int outOff, float[] scores) {
        int kvHeads = kv.kvHeads();
        int headDim = kv.headDim();
        int shift = kv.blockShift();
        Attention.checkPaged(heads, kvHeads, len, scores, table, shift);
        int group = heads / kvHeads;
        int stride = 1 << shift;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        boolean pairs = group >= 2 && scores.length >= 2 * len;
        for (int h = 0; h < heads; h++) {
            int qh = qOff + h * headDim;
            int kvHead = h / group;
            if (pairs && h % group + 1 < group) {
                // two query heads of one kv head: each key and value load is widened once for both
                for (int p = 0; p < len; p += L) {
                    scoresPair(q, qh, headDim, kv.keys, kv.keyIndex(slot(table, shift, p), kvHead, 0), stride, scale,
                            scores, p, len, Math.min(L, len - p));
                }
                Attention.softmax(scores, 0, len);
                Attention.softmax(scores, len, len);
                valuesPair(scores, len, kv, table, shift, kvHead, len, out, outOff + h * headDim);
                h++;
                continue;
            }
            for (int p = 0; p < len; p += L) {
                scoresOne(q, qh, headDim, kv.keys, kv.keyIndex(slot(table, shift, p), kvHead, 0), stride, scale,
                        scores, p, Math.min(L, len - p));
            }
            Attention.softmax(scores, 0, len);
            valuesOne(scores, kv, table, shift, kvHead, len, out, outOff + h * headDim);
        }
    }

    private static FloatVector low(IntVector x) {
        return x.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector high(IntVector x) {
        return x.and(HIGH).reinterpretAsFloats();
    }

    private static FloatVector at(float[] q, int i) {
        return FloatVector.broadcast(F, q[i]);
    }

    /** Scores of L positions of a block (key pair row j of position i at k[kOff + j·stride + i]). */
    private static void scoresOne(float[] q, int qh, int headDim, int[] k, int kOff, int stride, float scale,
                                  float[] scores, int sOff, int valid) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            int row = kOff + (d >> 1) * stride;
            IntVector x = IntVector.fromArray(I, k, row);
            IntVector y = IntVector.fromArray(I, k, row + stride);
            c0 = low(x).fma(at(q, qh + d), c0);
            c1 = high(x).fma(at(q, qh + d + 1), c1);
            c2 = low(y).fma(at(q, qh + d + 2), c2);
            c3 = high(y).fma(at(q, qh + d + 3), c3);
        }
        for (; d < headDim; d++) {
            IntVector x = IntVector.fromArray(I, k, kOff + (d >> 1) * stride);
            c0 = ((d & 1) == 0 ? low(x) : high(x)).fma(at(q, qh + d), c0);
        }
        store(c0.add(c1).add(c2.add(c3)).mul(scale), scores, sOff, valid);
    }

    /** {@link #scoresOne} for query heads at qh and qh + headDim; the second's scores at + other. */
    private static void scoresPair(float[] q, int qh, int headDim, int[] k, int kOff, int stride, float scale,
                                   float[] scores, int sOff, int other, int valid) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, e0 = c0, e1 = c0, e2 = c0, e3 = c0;
        int r = qh + headDim;
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            int row = kOff + (d >> 1) * stride;
            IntVector x = IntVector.fromArray(I, k, row);
            IntVector y = IntVector.fromArray(I, k, row + stride);
            FloatVector k0 = low(x), k1 = high(x), k2 = low(y), k3 = high(y);
            c0 = k0.fma(at(q, qh + d), c0);
            e0 = k0.fma(at(q, r + d), e0);
            c1 = k1.fma(at(q, qh + d + 1), c1);
            e1 = k1.fma(at(q, r + d + 1), e1);
            c2 = k2.fma(at(q, qh + d + 2), c2);
            e2 = k2.fma(at(q, r + d + 2), e2);
            c3 = k3.fma(at(q, qh + d + 3), c3);
            e3 = k3.fma(at(q, r + d + 3), e3);
        }
        for (; d < headDim; d++) {
            IntVector x = IntVector.fromArray(I, k, kOff + (d >> 1) * stride);
            FloatVector kd = (d & 1) == 0 ? low(x) : high(x);
            c0 = kd.fma(at(q, qh + d), c0);
            e0 = kd.fma(at(q, r + d), e0);
        }
        store(c0.add(c1).add(c2.add(c3)).mul(scale), scores, sOff, valid);
        store(e0.add(e1).add(e2.add(e3)).mul(scale), scores, sOff + other, valid);
    }

    static void store(FloatVector s, float[] scores, int off, int valid) {
        if (valid == L) {
            s.intoArray(scores, off);
        } else {
            s.intoArray(scores, off, F.indexInRange(0, valid));
        }
    }

    /**
     * out[0..headDim) = Σ_p w[p] · value of p: even positions (low halves) on one chain, odd (high halves) on the
     * other, as FP32's; two vectors of dims at a time, then one, then the scalar tail.
     */
    private static void valuesOne(float[] w, KvLayerBF16 kv, int[] table, int shift, int kvHead,
                                  int len, float[] out, int outOff) {
        int[] values = kv.values;
        int headDim = kv.headDim();
        int even = len & ~1;
        int c = 0;
        for (; c + 4 * L <= headDim; c += 4 * L) {
            // four vectors of the head's dims (all 64 at 512 bits): one pass over the positions
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int p = 0; p < even; p += 2) {
                int i = kv.valueIndex(slot(table, shift, p), kvHead, c);
                IntVector x0 = IntVector.fromArray(I, values, i);
                IntVector x1 = IntVector.fromArray(I, values, i + L);
                IntVector x2 = IntVector.fromArray(I, values, i + 2 * L);
                IntVector x3 = IntVector.fromArray(I, values, i + 3 * L);
                FloatVector wa = at(w, p), wb = at(w, p + 1);
                a0 = low(x0).fma(wa, a0);
                b0 = high(x0).fma(wb, b0);
                a1 = low(x1).fma(wa, a1);
                b1 = high(x1).fma(wb, b1);
                a2 = low(x2).fma(wa, a2);
                b2 = high(x2).fma(wb, b2);
                a3 = low(x3).fma(wa, a3);
                b3 = high(x3).fma(wb, b3);
            }
            if (even < len) {
                int i = kv.valueIndex(slot(table, shift, even), kvHead, c);
                FloatVector wa = at(w, even);
                a0 = low(IntVector.fromArray(I, values, i)).fma(wa, a0);
                a1 = low(IntVector.fromArray(I, values, i + L)).fma(wa, a1);
                a2 = low(IntVector.fromArray(I, values, i + 2 * L)).fma(wa, a2);
                a3 = low(IntVector.fromArray(I, values, i + 3 * L)).fma(wa, a3);
            }
            a0.add(b0).intoArray(out, outOff + c);
            a1.add(b1).intoArray(out, outOff + c + L);
            a2.add(b2).intoArray(out, outOff + c + 2 * L);
            a3.add(b3).intoArray(out, outOff + c + 3 * L);
        }
        for (; c + 2 * L <= headDim; c += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
            for (int p = 0; p < even; p += 2) {
                int i = kv.valueIndex(slot(table, shift, p), kvHead, c);
                IntVector x0 = IntVector.fromArray(I, values, i);
                IntVector x1 = IntVector.fromArray(I, values, i + L);
                FloatVector wa = at(w, p), wb = at(w, p + 1);
                a0 = low(x0).fma(wa, a0);
                b0 = high(x0).fma(wb, b0);
                a1 = low(x1).fma(wa, a1);
                b1 = high(x1).fma(wb, b1);
            }
            if (even < len) {
                int i = kv.valueIndex(slot(table, shift, even), kvHead, c);
                FloatVector wa = at(w, even);
                a0 = low(IntVector.fromArray(I, values, i)).fma(wa, a0);
                a1 = low(IntVector.fromArray(I, values, i + L)).fma(wa, a1);
            }
            a0.add(b0).intoArray(out, outOff + c);
            a1.add(b1).intoArray(out, outOff + c + L);
        }
        for (; c + L <= headDim; c += L) {
            FloatVector a = FloatVector.zero(F), b = a;
            for (int p = 0; p < even; p += 2) {
                IntVector x = IntVector.fromArray(I, values, kv.valueIndex(slot(table, shift, p), kvHead, c));
                a = low(x).fma(at(w, p), a);
                b = high(x).fma(at(w, p + 1), b);
            }
            if (even < len) {
                IntVector x = IntVector.fromArray(I, values, kv.valueIndex(slot(table, shift, even), kvHead, c));
                a = low(x).fma(at(w, even), a);
            }
            a.add(b).intoArray(out, outOff + c);
        }
        scalarTail(w, 0, kv, table, shift, kvHead, len, c, out, outOff);
    }

    /** {@link #valuesOne} for two heads sharing each load: weights at [0, len) and [other, other + len). */
    private static void valuesPair(float[] w, int other, KvLayerBF16 kv, int[] table, int shift,
                                   int kvHead, int len, float[] out, int outOff) {
        int[] values = kv.values;
        int headDim = kv.headDim();
        int even = len & ~1;
        int c = 0;
        for (; c + 2 * L <= headDim; c += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, e0 = a0, e1 = a0, f0 = a0, f1 = a0;
            for (int p = 0; p < even; p += 2) {
                int i = kv.valueIndex(slot(table, shift, p), kvHead, c);
                IntVector x0 = IntVector.fromArray(I, values, i);
                IntVector x1 = IntVector.fromArray(I, values, i + L);
                FloatVector l0 = low(x0), h0 = high(x0), l1 = low(x1), h1 = high(x1);
                FloatVector wa = at(w, p), wb = at(w, p + 1), ua = at(w, other + p), ub = at(w, other + p + 1);
                a0 = l0.fma(wa, a0);
                b0 = h0.fma(wb, b0);
                a1 = l1.fma(wa, a1);
                b1 = h1.fma(wb, b1);
                e0 = l0.fma(ua, e0);
                f0 = h0.fma(ub, f0);
                e1 = l1.fma(ua, e1);
                f1 = h1.fma(ub, f1);
            }
            if (even < len) {
                int i = kv.valueIndex(slot(table, shift, even), kvHead, c);
                FloatVector l0 = low(IntVector.fromArray(I, values, i));
                FloatVector l1 = low(IntVector.fromArray(I, values, i + L));
                FloatVector wa = at(w, even), ua = at(w, other + even);
                a0 = l0.fma(wa, a0);
                a1 = l1.fma(wa, a1);
                e0 = l0.fma(ua, e0);
                e1 = l1.fma(ua, e1);
            }
            a0.add(b0).intoArray(out, outOff + c);
            a1.add(b1).intoArray(out, outOff + c + L);
            e0.add(f0).intoArray(out, outOff + headDim + c);
            e1.add(f1).intoArray(out, outOff + headDim + c + L);
        }
        for (; c + L <= headDim; c += L) {
            FloatVector a = FloatVector.zero(F), b = a, e = a, f = a;
            for (int p = 0; p < even; p += 2) {
                IntVector x = IntVector.fromArray(I, values, kv.valueIndex(slot(table, shift, p), kvHead, c));
                FloatVector lo = low(x), hi = high(x);
                a = lo.fma(at(w, p), a);
                b = hi.fma(at(w, p + 1), b);
                e = lo.fma(at(w, other + p), e);
                f = hi.fma(at(w, other + p + 1), f);
            }
            if (even < len) {
                FloatVector lo = low(IntVector.fromArray(I, values,
                        kv.valueIndex(slot(table, shift, even), kvHead, c)));
                a = lo.fma(at(w, even), a);
                e = lo.fma(at(w, other + even), e);
            }
            a.add(b).intoArray(out, outOff + c);
            e.add(f).intoArray(out, outOff + headDim + c);
        }
        scalarTail(w, 0, kv, table, shift, kvHead, len, c, out, outOff);
        scalarTail(w, other, kv, table, shift, kvHead, len, c, out, outOff + headDim);
    }

    /** Dims [from, headDim) of one head with weights at w[wOff..]: the twin's chains, for head dims not a multiple of L. */
    static void scalarTail(float[] w, int wOff, KvLayer kv, int[] table, int shift, int kvHead, int len, int from,
                           float[] out, int outOff) {
        for (int c = from; c < kv.headDim(); c++) {
            float a = 0f, b = 0f;
            for (int p = 0; p < len; p++) {
                float v = kv.value(slot(table, shift, p), kvHead, c);
                if ((p & 1) == 0) {
                    a = Math.fma(v, w[wOff + p], a);
                } else {
                    b = Math.fma(v, w[wOff + p], b);
                }
            }
            out[outOff + c] = a + b;
        }
    }

    static int slot(int[] table, int shift, int p) {
        return table[p >> shift] << shift | (p & ((1 << shift) - 1));
    }
}
