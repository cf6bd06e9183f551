package io.nemotron.core.backend.cpu;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention for one query token, FP32 throughout, over a contiguous KV store or a paged one
 * read through a block table. Both paths run the same loops in the same order, so a token's output does not depend
 * on how its KV is laid out or on what else is in the batch.
 */
public final class Attention {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Attention() {}

    /**
     * q: [heads*headDim] at qOff; keys/values: [positions][kvHeads*headDim] (row stride kvHeads*headDim);
     * attends to positions [0, len); head h uses kv head h / (heads/kvHeads); out: [heads*headDim] at outOff;
     * scores: scratch of length >= len. scale = 1/sqrt(headDim). Max-subtracted softmax.
     */
    public static void decode(float[] q, int qOff, float[] keys, float[] values, int len, int heads, int kvHeads,
                              int headDim, float[] out, int outOff, float[] scores) {
        attend(q, qOff, keys, values, null, 0, len, heads, kvHeads, headDim, out, outOff, scores);
    }

    /**
     * As {@link #decode}, with keys/values a paged pool [numBlocks·blockSize][kvHeads*headDim]: position p lives in
     * row {@code blockTable[p >> blockShift] << blockShift | (p & (blockSize-1))} (blockSize = 1 << blockShift).
     */
    public static void decodePaged(float[] q, int qOff, float[] keyPool, float[] valuePool, int[] blockTable,
                                   int blockShift, int len, int heads, int kvHeads, int headDim, float[] out,
                                   int outOff, float[] scores) {
        if (((long) len + (1 << blockShift) - 1) >> blockShift > blockTable.length) {
            throw new IllegalArgumentException("block table of " + blockTable.length + " blocks cannot hold " + len
                    + " positions");
        }
        attend(q, qOff, keyPool, valuePool, blockTable, blockShift, len, heads, kvHeads, headDim, out, outOff, scores);
    }

    /** Row of position p: p itself (contiguous, table null) or through the block table. */
    private static int row(int[] table, int shift, int p) {
        return table == null ? p : table[p >> shift] << shift | (p & ((1 << shift) - 1));
    }

    private static void attend(float[] q, int qOff, float[] keys, float[] values, int[] table, int shift, int len,
                               int heads, int kvHeads, int headDim, float[] out, int outOff, float[] scores) {
        if (kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " must be a multiple of kvHeads " + kvHeads);
        }
        if (len < 1 || scores.length < len) {
            throw new IllegalArgumentException("len " + len + " must be >= 1 and <= scores.length " + scores.length);
        }
        int group = heads / kvHeads;
        int kvStride = kvHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = 0; h < heads; h++) {
            int qh = qOff + h * headDim;
            int kvOff = (h / group) * headDim;
            float max = Float.NEGATIVE_INFINITY;
            for (int p = 0; p < len; p++) {
                float s = dot(q, qh, keys, row(table, shift, p) * kvStride + kvOff, headDim) * scale;
                scores[p] = s;
                max = Math.max(max, s);
            }
            float sum = 0f;
            for (int p = 0; p < len; p++) {
                float e = (float) Math.exp(scores[p] - max);
                scores[p] = e;
                sum += e;
            }
            float inv = 1f / sum;
            int oh = outOff + h * headDim;
            Arrays.fill(out, oh, oh + headDim, 0f);
            for (int p = 0; p < len; p++) {
                axpy(scores[p] * inv, values, row(table, shift, p) * kvStride + kvOff, out, oh, headDim);
            }
        }
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(n);
        int i = 0;
        for (; i < upper; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float sum = Lanes.sum(acc);   // one fixed order, interpreted or compiled
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** y += alpha * x over n elements. */
    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector a = FloatVector.broadcast(F, alpha);
        int upper = F.loopBound(n);
        int i = 0;
        for (; i < upper; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).fma(a, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }
}
