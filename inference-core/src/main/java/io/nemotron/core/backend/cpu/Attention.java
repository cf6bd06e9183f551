package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention for one query token, FP32 throughout, over a contiguous KV store or the paged
 * pool of {@link CpuKvPool}.
 *
 * <p>The paged pool keeps each block's keys transposed, [kvHead][dim][position in block] (as CPU paged-attention
 * kernels do), so the scores of {@code L} consecutive positions are one vector: {@code headDim} broadcast-FMAs and
 * no horizontal reduction, where a row-major dot per position spends more on its lane sum than on its FMAs.
 * Every score is four FMA chains over d ≡ 0..3 (mod 4) added as (c0 + c1) + (c2 + c3); the scalar path (partial
 * vectors, the contiguous store) runs the same chains with {@link Math#fma}, so both give the same bits and a
 * token's output does not depend on its KV layout, its block boundaries or the rest of the batch.
 * The weighted sum of values runs over even and odd positions, each in order, with up to four head-dim vectors
 * held in registers. With grouped-query attention the paged path takes the query heads
 * of a kv head in pairs ({@link #pairsHeads}), so each key and value vector is loaded once for two heads (the same
 * per-lane operations, so the same bits).
 */
public final class Attention {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private Attention() {}

    /** Index of key (slot, kvHead, d) in a paged key pool of {@code 1 << blockShift}-token blocks. */
    static int pagedKeyIndex(int slot, int kvHead, int d, int kvHeads, int headDim, int blockShift) {
        int block = slot >> blockShift;
        return (((block * kvHeads + kvHead) * headDim + d) << blockShift) | (slot & ((1 << blockShift) - 1));
    }

    /** Index of key element 0 of position p's kv head in a paged key pool, the position's block through the table. */
    private static int keyOffset(int[] table, int shift, int p, int kvHead, int kvHeads, int headDim) {
        return pagedKeyIndex(row(table, shift, p), kvHead, 0, kvHeads, headDim, shift);
    }

    /**
     * q: [heads*headDim] at qOff; keys/values: [positions][kvHeads*headDim] (row stride kvHeads*headDim);
     * attends to positions [0, len); head h uses kv head h / (heads/kvHeads); out: [heads*headDim] at outOff;
     * scores: scratch of length >= len. scale = 1/sqrt(headDim). Max-subtracted softmax.
     */
    public static void decode(float[] q, int qOff, float[] keys, float[] values, int len, int heads, int kvHeads,
                              int headDim, float[] out, int outOff, float[] scores) {
        check(heads, kvHeads, len, scores);
        int group = heads / kvHeads;
        int kvStride = kvHeads * headDim;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        for (int h = 0; h < heads; h++) {
            int qh = qOff + h * headDim;
            int kvOff = (h / group) * headDim;
            for (int p = 0; p < len; p++) {
                scores[p] = scoreScalar(q, qh, keys, p * kvStride + kvOff, 1, headDim) * scale;
            }
            softmax(scores, 0, len);
            weightedValues(scores, values, null, 0, kvStride, kvOff, len, headDim, out, outOff + h * headDim);
        }
    }

    /**
     * As {@link #decode}, over a paged pool: values [numBlocks·blockSize][kvHeads*headDim], position p in row
     * {@code blockTable[p >> blockShift] << blockShift | (p & (blockSize-1))}; keys in the transposed block layout
     * of {@link #pagedKeyIndex}. scores: scratch of at least len floats, 2 · len where {@link #pairsHeads}.
     */
    public static void decodePaged(float[] q, int qOff, float[] keyPool, float[] valuePool, int[] blockTable,
                                   int blockShift, int len, int heads, int kvHeads, int headDim, float[] out,
                                   int outOff, float[] scores) {
        checkPaged(heads, kvHeads, len, scores, blockTable, blockShift);
        int group = heads / kvHeads;
        int kvStride = kvHeads * headDim;
        int blockSize = 1 << blockShift;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        boolean pairs = pairsHeads(heads, kvHeads, headDim, blockShift);
        if (pairs && scores.length < 2 * len) {
            throw new IllegalArgumentException("heads are taken in pairs here: scores needs 2 * len = " + 2 * len
                    + " floats, has " + scores.length);
        }
        for (int h = 0; h < heads; h++) {
            int qh = qOff + h * headDim;
            int kvHead = h / group;
            if (pairs && h % group + 1 < group) {
                // two query heads of one kv head: each key and value vector is loaded once for both
                decodePair(q, qh, keyPool, valuePool, blockTable, blockShift, len, kvHeads, kvHead, headDim, scale,
                        out, outOff + h * headDim, scores);
                h++;
                continue;
            }
            if (blockSize >= L) {
                // whole vectors of positions (a vector never straddles blocks: L divides the block size), two at a
                // time for eight FMA chains in flight, within a block or across two; the last block's unused tail
                // holds stale or zero keys, whose lanes are not stored
                int p = 0;
                for (; p + 2 * L <= len; p += 2 * L) {
                    scoresVector2(q, qh, keyPool, keyOffset(blockTable, blockShift, p, kvHead, kvHeads, headDim),
                            keyOffset(blockTable, blockShift, p + L, kvHead, kvHeads, headDim), blockSize, headDim,
                            scale, scores, p);
                }
                for (; p < len; p += L) {
                    scoresVector(q, qh, keyPool, keyOffset(blockTable, blockShift, p, kvHead, kvHeads, headDim),
                            blockSize, headDim, scale, scores, p, Math.min(L, len - p));
                }
            } else {
                for (int p = 0; p < len; p++) {
                    scores[p] = scoreScalar(q, qh, keyPool, keyOffset(blockTable, blockShift, p, kvHead, kvHeads,
                            headDim), blockSize, headDim) * scale;
                }
            }
            softmax(scores, 0, len);
            weightedValues(scores, valuePool, blockTable, blockShift, kvStride, kvHead * headDim, len, headDim, out,
                    outOff + h * headDim);
        }
    }

    /**
     * Heads h and h+1 (queries at qh and qh + headDim, outputs at outOff and outOff + headDim) of one kv head, with
     * the same per-lane operations as the one-head path: scores in scores[0, len) and scores[len, 2·len).
     */
    private static void decodePair(float[] q, int qh, float[] keyPool, float[] valuePool, int[] blockTable,
                                   int blockShift, int len, int kvHeads, int kvHead, int headDim, float scale,
                                   float[] out, int outOff, float[] scores) {
        for (int p = 0; p < len; p += L) {
            scoresPair(q, qh, keyPool, keyOffset(blockTable, blockShift, p, kvHead, kvHeads, headDim), 1 << blockShift,
                    headDim, scale, scores, p, len, Math.min(L, len - p));
        }
        softmax(scores, 0, len);
        softmax(scores, len, len);
        weightedValuesPair(scores, len, valuePool, blockTable, blockShift, kvHeads * headDim, kvHead * headDim, len,
                headDim, out, outOff);
    }

    /** {@link #scoresVector} for two query heads (the second's query headDim further on, its scores at + other). */
    private static void scoresPair(float[] q, int qOff, float[] k, int kOff, int stride, int headDim, float scale,
                                   float[] scores, int sOff, int other, int valid) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
        int r = qOff + headDim;
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            int row = kOff + d * stride;
            FloatVector k0 = FloatVector.fromArray(F, k, row);
            FloatVector k1 = FloatVector.fromArray(F, k, row + stride);
            FloatVector k2 = FloatVector.fromArray(F, k, row + 2 * stride);
            FloatVector k3 = FloatVector.fromArray(F, k, row + 3 * stride);
            c0 = k0.fma(FloatVector.broadcast(F, q[qOff + d]), c0);
            d0 = k0.fma(FloatVector.broadcast(F, q[r + d]), d0);
            c1 = k1.fma(FloatVector.broadcast(F, q[qOff + d + 1]), c1);
            d1 = k1.fma(FloatVector.broadcast(F, q[r + d + 1]), d1);
            c2 = k2.fma(FloatVector.broadcast(F, q[qOff + d + 2]), c2);
            d2 = k2.fma(FloatVector.broadcast(F, q[r + d + 2]), d2);
            c3 = k3.fma(FloatVector.broadcast(F, q[qOff + d + 3]), c3);
            d3 = k3.fma(FloatVector.broadcast(F, q[r + d + 3]), d3);
        }
        for (; d < headDim; d++) {
            FloatVector kd = FloatVector.fromArray(F, k, kOff + d * stride);
            c0 = kd.fma(FloatVector.broadcast(F, q[qOff + d]), c0);
            d0 = kd.fma(FloatVector.broadcast(F, q[r + d]), d0);
        }
        FloatVector a = c0.add(c1).add(c2.add(c3)).mul(scale);
        FloatVector b = d0.add(d1).add(d2.add(d3)).mul(scale);
        if (valid == L) {
            a.intoArray(scores, sOff);
            b.intoArray(scores, sOff + other);
        } else {
            a.intoArray(scores, sOff, F.indexInRange(0, valid));
            b.intoArray(scores, sOff + other, F.indexInRange(0, valid));
        }
    }

    /**
     * {@link #weightedValues} for two heads sharing each value load: weights of the first at [0, len), of the second
     * at [other, other + len); two head-dim vectors at a time, the same even/odd chains per element.
     */
    private static void weightedValuesPair(float[] weights, int other, float[] values, int[] table, int shift,
                                           int kvStride, int kvOff, int len, int headDim, float[] out, int outOff) {
        int pairs = len & ~1;
        for (int c = 0; c < headDim; c += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, e0 = a0, e1 = a0, f0 = a0, f1 = a0;
            for (int p = 0; p < pairs; p += 2) {
                int va = row(table, shift, p) * kvStride + kvOff + c;
                int vb = row(table, shift, p + 1) * kvStride + kvOff + c;
                FloatVector x0 = FloatVector.fromArray(F, values, va);
                FloatVector x1 = FloatVector.fromArray(F, values, va + L);
                FloatVector y0 = FloatVector.fromArray(F, values, vb);
                FloatVector y1 = FloatVector.fromArray(F, values, vb + L);
                FloatVector wa = FloatVector.broadcast(F, weights[p]);
                FloatVector wb = FloatVector.broadcast(F, weights[p + 1]);
                FloatVector ua = FloatVector.broadcast(F, weights[other + p]);
                FloatVector ub = FloatVector.broadcast(F, weights[other + p + 1]);
                a0 = x0.fma(wa, a0);
                a1 = x1.fma(wa, a1);
                b0 = y0.fma(wb, b0);
                b1 = y1.fma(wb, b1);
                e0 = x0.fma(ua, e0);
                e1 = x1.fma(ua, e1);
                f0 = y0.fma(ub, f0);
                f1 = y1.fma(ub, f1);
            }
            if (pairs < len) {
                int va = row(table, shift, pairs) * kvStride + kvOff + c;
                FloatVector x0 = FloatVector.fromArray(F, values, va);
                FloatVector x1 = FloatVector.fromArray(F, values, va + L);
                FloatVector wa = FloatVector.broadcast(F, weights[pairs]);
                FloatVector ua = FloatVector.broadcast(F, weights[other + pairs]);
                a0 = x0.fma(wa, a0);
                a1 = x1.fma(wa, a1);
                e0 = x0.fma(ua, e0);
                e1 = x1.fma(ua, e1);
            }
            a0.add(b0).intoArray(out, outOff + c);
            a1.add(b1).intoArray(out, outOff + c + L);
            e0.add(f0).intoArray(out, outOff + headDim + c);
            e1.add(f1).intoArray(out, outOff + headDim + c + L);
        }
    }

    /**
     * Whether {@link #decodePaged} takes the query heads of a kv head in pairs (then its scratch holds two heads'
     * scores): grouped-query attention, whole vectors of positions per block, head dim a multiple of two vectors.
     */
    static boolean pairsHeads(int heads, int kvHeads, int headDim, int blockShift) {
        return heads / kvHeads >= 2 && (1 << blockShift) >= L && headDim % (2 * L) == 0;
    }

    /** The arguments of a paged decode: heads, len and scratch as {@link #check}; a table long enough for len. */
    static void checkPaged(int heads, int kvHeads, int len, float[] scores, int[] blockTable, int blockShift) {
        if (((long) len + (1 << blockShift) - 1) >> blockShift > blockTable.length) {
            throw new IllegalArgumentException("block table of " + blockTable.length + " blocks cannot hold " + len
                    + " positions");
        }
        check(heads, kvHeads, len, scores);
    }

    private static void check(int heads, int kvHeads, int len, float[] scores) {
        if (kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " must be a multiple of kvHeads " + kvHeads);
        }
        if (len < 1 || scores.length < len) {
            throw new IllegalArgumentException("len " + len + " must be >= 1 and <= scores.length " + scores.length);
        }
    }

    /** q·k for one position whose d-th key element is at k[kOff + d*dStride]: the chains of {@link #scoresVector}. */
    private static float scoreScalar(float[] q, int qOff, float[] k, int kOff, int dStride, int headDim) {
        float c0 = 0f, c1 = 0f, c2 = 0f, c3 = 0f;
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            c0 = Math.fma(q[qOff + d], k[kOff + d * dStride], c0);
            c1 = Math.fma(q[qOff + d + 1], k[kOff + (d + 1) * dStride], c1);
            c2 = Math.fma(q[qOff + d + 2], k[kOff + (d + 2) * dStride], c2);
            c3 = Math.fma(q[qOff + d + 3], k[kOff + (d + 3) * dStride], c3);
        }
        for (; d < headDim; d++) {
            c0 = Math.fma(q[qOff + d], k[kOff + d * dStride], c0);
        }
        return (c0 + c1) + (c2 + c3);
    }

    /**
     * Scores of L consecutive positions of a transposed block (key element d of position i at k[kOff + d*stride + i]);
     * only the first {@code valid} are stored.
     */
    private static void scoresVector(float[] q, int qOff, float[] k, int kOff, int stride, int headDim, float scale,
                                     float[] scores, int sOff, int valid) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            int row = kOff + d * stride;
            c0 = FloatVector.fromArray(F, k, row).fma(FloatVector.broadcast(F, q[qOff + d]), c0);
            c1 = FloatVector.fromArray(F, k, row + stride).fma(FloatVector.broadcast(F, q[qOff + d + 1]), c1);
            c2 = FloatVector.fromArray(F, k, row + 2 * stride).fma(FloatVector.broadcast(F, q[qOff + d + 2]), c2);
            c3 = FloatVector.fromArray(F, k, row + 3 * stride).fma(FloatVector.broadcast(F, q[qOff + d + 3]), c3);
        }
        for (; d < headDim; d++) {
            c0 = FloatVector.fromArray(F, k, kOff + d * stride).fma(FloatVector.broadcast(F, q[qOff + d]), c0);
        }
        FloatVector s = c0.add(c1).add(c2.add(c3)).mul(scale);
        if (valid == L) {
            s.intoArray(scores, sOff);
        } else {
            s.intoArray(scores, sOff, F.indexInRange(0, valid));
        }
    }

    /**
     * {@link #scoresVector} for 2L positions at once, the first L at kOff and the next L at kOff2 (in the same block
     * or the next one): eight independent chains, the same per-lane operations.
     */
    private static void scoresVector2(float[] q, int qOff, float[] k, int kOff, int kOff2, int stride, int headDim,
                                      float scale, float[] scores, int sOff) {
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, d0 = c0, d1 = c0, d2 = c0, d3 = c0;
        int d = 0;
        for (; d + 4 <= headDim; d += 4) {
            int row = kOff + d * stride;
            int row2 = kOff2 + d * stride;
            FloatVector q0 = FloatVector.broadcast(F, q[qOff + d]);
            FloatVector q1 = FloatVector.broadcast(F, q[qOff + d + 1]);
            FloatVector q2 = FloatVector.broadcast(F, q[qOff + d + 2]);
            FloatVector q3 = FloatVector.broadcast(F, q[qOff + d + 3]);
            c0 = FloatVector.fromArray(F, k, row).fma(q0, c0);
            d0 = FloatVector.fromArray(F, k, row2).fma(q0, d0);
            c1 = FloatVector.fromArray(F, k, row + stride).fma(q1, c1);
            d1 = FloatVector.fromArray(F, k, row2 + stride).fma(q1, d1);
            c2 = FloatVector.fromArray(F, k, row + 2 * stride).fma(q2, c2);
            d2 = FloatVector.fromArray(F, k, row2 + 2 * stride).fma(q2, d2);
            c3 = FloatVector.fromArray(F, k, row + 3 * stride).fma(q3, c3);
            d3 = FloatVector.fromArray(F, k, row2 + 3 * stride).fma(q3, d3);
        }
        for (; d < headDim; d++) {
            FloatVector qd = FloatVector.broadcast(F, q[qOff + d]);
            c0 = FloatVector.fromArray(F, k, kOff + d * stride).fma(qd, c0);
            d0 = FloatVector.fromArray(F, k, kOff2 + d * stride).fma(qd, d0);
        }
        c0.add(c1).add(c2.add(c3)).mul(scale).intoArray(scores, sOff);
        d0.add(d1).add(d2.add(d3)).mul(scale).intoArray(scores, sOff + L);
    }

    /**
     * In place: scores[p] = exp(scores[p] - max) / sum, vector-wide with {@link VectorExp} (the tail with its scalar
     * twin); the sum is L lane-wise running sums reduced in {@link Lanes}' fixed order, plus the tail's. Deterministic
     * for a given len.
     */
    static void softmax(float[] scores, int off, int len) {
        int upper = F.loopBound(len);
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int p = 0;
        for (; p < upper; p += L) {
            // compare + blend, not max(): C2's Java-semantics float max (NaN, -0) was the costliest line of attention
            FloatVector v = FloatVector.fromArray(F, scores, off + p);
            mv = mv.blend(v, mv.lt(v));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);   // max is exact in any order
        for (; p < len; p++) {
            max = Math.max(max, scores[off + p]);
        }
        FloatVector acc = FloatVector.zero(F);
        for (p = 0; p < upper; p += L) {
            FloatVector e = VectorExp.exp(FloatVector.fromArray(F, scores, off + p).sub(max));
            e.intoArray(scores, off + p);
            acc = acc.add(e);
        }
        float tail = 0f;
        for (; p < len; p++) {
            float e = VectorExp.exp(scores[off + p] - max);   // the scalar twin: the same bits as a lane
            scores[off + p] = e;
            tail += e;
        }
        float inv = 1f / (Lanes.sum(acc) + tail);
        for (p = 0; p < upper; p += L) {
            FloatVector.fromArray(F, scores, off + p).mul(inv).intoArray(scores, off + p);
        }
        for (; p < len; p++) {
            scores[off + p] *= inv;
        }
    }

    /**
     * out[0..headDim) = Σ_p weights[p] · value row of p, rows through the block table (table null: row p). Even and
     * odd positions are summed in order into separate accumulators, added at the end, so two independent FMA chains
     * per vector hide the FMA latency; up to four vectors of the head stay in registers across all positions.
     */
    private static void weightedValues(float[] weights, float[] values, int[] table, int shift, int kvStride,
                                       int kvOff, int len, int headDim, float[] out, int outOff) {
        int c = 0;
        int pairs = len & ~1;
        for (; c + 4 * L <= headDim; c += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int p = 0; p < pairs; p += 2) {
                FloatVector wa = FloatVector.broadcast(F, weights[p]);
                FloatVector wb = FloatVector.broadcast(F, weights[p + 1]);
                int va = row(table, shift, p) * kvStride + kvOff + c;
                int vb = row(table, shift, p + 1) * kvStride + kvOff + c;
                a0 = FloatVector.fromArray(F, values, va).fma(wa, a0);
                b0 = FloatVector.fromArray(F, values, vb).fma(wb, b0);
                a1 = FloatVector.fromArray(F, values, va + L).fma(wa, a1);
                b1 = FloatVector.fromArray(F, values, vb + L).fma(wb, b1);
                a2 = FloatVector.fromArray(F, values, va + 2 * L).fma(wa, a2);
                b2 = FloatVector.fromArray(F, values, vb + 2 * L).fma(wb, b2);
                a3 = FloatVector.fromArray(F, values, va + 3 * L).fma(wa, a3);
                b3 = FloatVector.fromArray(F, values, vb + 3 * L).fma(wb, b3);
            }
            if (pairs < len) {
                FloatVector wa = FloatVector.broadcast(F, weights[pairs]);
                int va = row(table, shift, pairs) * kvStride + kvOff + c;
                a0 = FloatVector.fromArray(F, values, va).fma(wa, a0);
                a1 = FloatVector.fromArray(F, values, va + L).fma(wa, a1);
                a2 = FloatVector.fromArray(F, values, va + 2 * L).fma(wa, a2);
                a3 = FloatVector.fromArray(F, values, va + 3 * L).fma(wa, a3);
            }
            a0.add(b0).intoArray(out, outOff + c);
            a1.add(b1).intoArray(out, outOff + c + L);
            a2.add(b2).intoArray(out, outOff + c + 2 * L);
            a3.add(b3).intoArray(out, outOff + c + 3 * L);
        }
        for (; c + L <= headDim; c += L) {
            FloatVector a = FloatVector.zero(F), b = a;
            for (int p = 0; p < len; p++) {
                FloatVector v = FloatVector.fromArray(F, values, row(table, shift, p) * kvStride + kvOff + c);
                FloatVector wp = FloatVector.broadcast(F, weights[p]);
                if ((p & 1) == 0) {
                    a = v.fma(wp, a);
                } else {
                    b = v.fma(wp, b);
                }
            }
            a.add(b).intoArray(out, outOff + c);
        }
        for (; c < headDim; c++) {
            float a = 0f, b = 0f;
            for (int p = 0; p < len; p++) {
                float v = values[row(table, shift, p) * kvStride + kvOff + c];
                if ((p & 1) == 0) {
                    a = Math.fma(v, weights[p], a);
                } else {
                    b = Math.fma(v, weights[p], b);
                }
            }
            out[outOff + c] = a + b;
        }
    }

    /** Row of position p: p itself (contiguous, table null) or through the block table. */
    private static int row(int[] table, int shift, int p) {
        return table == null ? p : table[p >> shift] << shift | (p & ((1 << shift) - 1));
    }
}
