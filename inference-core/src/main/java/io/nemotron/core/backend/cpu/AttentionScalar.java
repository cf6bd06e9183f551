package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;

/**
 * The scalar twin of the paged attention kernels ({@link Attention}, {@link AttentionBF16}, {@link AttentionFP8}): one
 * query token over any {@link KvLayer}, reading each cached element dequantized ({@link KvLayer#key},
 * {@link KvLayer#value}) and running, element by element, the operations each vector lane runs:
 * <ul>
 *   <li>a score is four FMA chains over d ≡ 0..3 (mod 4), the dims past the last multiple of 4 on chain 0, summed as
 *       (c0 + c1) + (c2 + c3), times 1/sqrt(headDim);</li>
 *   <li>softmax: the exact max, {@link VectorExp}'s exp of (score − max), a sum in L lane-wise running sums reduced
 *       as {@link Lanes} does plus the tail past the last whole vector, then one multiply by its inverse;</li>
 *   <li>each output element is two FMA chains, over even and over odd positions in order, added at the end.</li>
 * </ul>
 * It is the oracle of bit identity ({@link KvLayer}'s NOTE) and the fallback where blocks are narrower than a vector.
 */
final class AttentionScalar {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    private AttentionScalar() {}

    static void decodePaged(float[] q, int qOff, KvLayer kv, int[] table, int len, int heads, float[] out, int outOff,
                            float[] scores) {
        int kvHeads = kv.kvHeads();
        int headDim = kv.headDim();
        int shift = kv.blockShift();
        if (kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " must be a multiple of kvHeads " + kvHeads);
        }
        if (len < 1 || scores.length < len) {
            throw new IllegalArgumentException("len " + len + " must be >= 1 and <= scores.length " + scores.length);
        }
        if (((long) len + (1 << shift) - 1) >> shift > table.length) {
            throw new IllegalArgumentException("block table of " + table.length + " blocks cannot hold " + len
                    + " positions");
        }
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = 0; h < heads; h++) {
            int qh = qOff + h * headDim;
            int kvHead = h / group;
            for (int p = 0; p < len; p++) {
                int slot = slot(table, shift, p);
                float c0 = 0f, c1 = 0f, c2 = 0f, c3 = 0f;
                int d = 0;
                for (; d + 4 <= headDim; d += 4) {
                    c0 = Math.fma(kv.key(slot, kvHead, d), q[qh + d], c0);
                    c1 = Math.fma(kv.key(slot, kvHead, d + 1), q[qh + d + 1], c1);
                    c2 = Math.fma(kv.key(slot, kvHead, d + 2), q[qh + d + 2], c2);
                    c3 = Math.fma(kv.key(slot, kvHead, d + 3), q[qh + d + 3], c3);
                }
                for (; d < headDim; d++) {
                    c0 = Math.fma(kv.key(slot, kvHead, d), q[qh + d], c0);
                }
                scores[p] = ((c0 + c1) + (c2 + c3)) * scale;
            }
            softmax(scores, len);
            for (int c = 0; c < headDim; c++) {
                float a = 0f, b = 0f;
                for (int p = 0; p < len; p++) {
                    float v = kv.value(slot(table, shift, p), kvHead, c);
                    if ((p & 1) == 0) {
                        a = Math.fma(v, scores[p], a);
                    } else {
                        b = Math.fma(v, scores[p], b);
                    }
                }
                out[outOff + h * headDim + c] = a + b;
            }
        }
    }

    /** Attention's softmax, lane by lane. */
    static void softmax(float[] s, int len) {
        int upper = len / L * L;
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < len; p++) {
            max = Math.max(max, s[p]);
        }
        float[] lanes = new float[L];
        float tail = 0f;
        for (int p = 0; p < len; p++) {
            float e = VectorExp.exp(s[p] - max);
            s[p] = e;
            if (p < upper) {
                lanes[p % L] += e;
            } else {
                tail += e;
            }
        }
        for (int step = L / 2; step >= 1; step /= 2) {
            float[] next = new float[L];
            for (int i = 0; i < L; i++) {
                next[i] = lanes[i] + lanes[i ^ step];
            }
            lanes = next;
        }
        float inv = 1f / (lanes[0] + tail);
        for (int p = 0; p < len; p++) {
            s[p] *= inv;
        }
    }

    private static int slot(int[] table, int shift, int p) {
        return table[p >> shift] << shift | (p & ((1 << shift) - 1));
    }
}
