package io.nemotron.core.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * BF16 weights ({@link PackedBF16}) times F32 activations, for one token (decode) or many (batched decode, prefill).
 *
 * <p>A vector lane is an output row: per column pair, one int vector load holds the pair for a block of rows,
 * {@code << 16} widens the even column and {@code & 0xFFFF0000} the odd one (bf16 → f32 is a shift), and each is
 * FMA'd with a broadcast activation. No horizontal sums. Batched calls run register blocks of 2 row blocks × 4
 * tokens (each broadcast feeds two FMAs; a 2 × 8 block, with 16 accumulators, made C2 give up on the method and ran
 * the Vector API's boxed fallback, 7× slower); decode keeps 4 row blocks in flight to hide the FMA latency.
 *
 * <p>NOTE: every kernel here computes each (row, token) as one FMA chain over the columns in order 0, 1, 2, …, so a
 * token's result is bit-identical however many tokens share the call and whichever block shape served it (greedy
 * output is batch-invariant).
 */
final class MatMulBF16 {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final long PAIR_BYTES = (long) L * Integer.BYTES;   // one column pair of a block
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort W_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final int HIGH_HALF = 0xFFFF0000;
    /** Row blocks decoded together: four independent FMA chains cover the FMA latency. */
    static final int GROUP = 4;

    private MatMulBF16() {}

    /** Row blocks [blockFrom, blockTo) for all tokens: out[t*rows + r] = Σ_c W[r,c]·in[t*cols + c]. */
    static void rowBlocks(PackedBF16 w, float[] in, float[] out, int tokens, int blockFrom, int blockTo) {
        int b = blockFrom;
        // weight-stationary: a group of blocks serves every token while it is hot in L1/L2
        for (; b + GROUP <= blockTo; b += GROUP) {
            int t = tokens8(w, in, out, tokens, b, b + GROUP);
            for (; t < tokens; t++) {
                blocks4x1(w, b, in, t, out);
            }
        }
        if (b < blockTo) {
            int t = tokens8(w, in, out, tokens, b, blockTo);
            for (; t < tokens; t++) {
                for (int k = b; k < blockTo; k++) {
                    block1x1(w, k, in, t, out);
                }
            }
        }
    }

    /** The 8- and 4-token register blocks over blocks [from, to); returns the first token left over. */
    private static int tokens8(PackedBF16 w, float[] in, float[] out, int tokens, int from, int to) {
        int t = 0;
        for (; t + 8 <= tokens; t += 8) {
            int k = from;
            for (; k + 2 <= to; k += 2) {
                block2x4(w, k, in, t, out);
                block2x4(w, k, in, t + 4, out);
            }
            if (k < to) {
                block1x8(w, k, in, t, out);
            }
        }
        if (t + 4 <= tokens) {
            for (int k = from; k < to; k++) {
                block1x4(w, k, in, t, out);
            }
            t += 4;
        }
        return t;
    }

    private static FloatVector even(IntVector pair) {
        return pair.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector odd(IntVector pair) {
        return pair.and(HIGH_HALF).reinterpretAsFloats();
    }

    private static FloatVector x(float v) {
        return FloatVector.broadcast(F, v);
    }

    private static IntVector load(MemorySegment data, long offset) {
        return IntVector.fromMemorySegment(I, data, offset, LE);
    }

    /** One row block × tokens t..t+7. */
    private static void block1x8(PackedBF16 w, int block, float[] in, int t, float[] out) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        int cols = w.cols;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        int x4 = x3 + cols, x5 = x4 + cols, x6 = x5 + cols, x7 = x6 + cols;
        long base = block * w.blockBytes();
        int full = cols >> 1;
        for (int j = 0; j < full; j++) {
            IntVector p = load(w.data, base + j * PAIR_BYTES);
            FloatVector e = even(p);
            int c = 2 * j;
            a0 = e.fma(x(in[x0 + c]), a0);
            a1 = e.fma(x(in[x1 + c]), a1);
            a2 = e.fma(x(in[x2 + c]), a2);
            a3 = e.fma(x(in[x3 + c]), a3);
            a4 = e.fma(x(in[x4 + c]), a4);
            a5 = e.fma(x(in[x5 + c]), a5);
            a6 = e.fma(x(in[x6 + c]), a6);
            a7 = e.fma(x(in[x7 + c]), a7);
            FloatVector o = odd(p);
            a0 = o.fma(x(in[x0 + c + 1]), a0);
            a1 = o.fma(x(in[x1 + c + 1]), a1);
            a2 = o.fma(x(in[x2 + c + 1]), a2);
            a3 = o.fma(x(in[x3 + c + 1]), a3);
            a4 = o.fma(x(in[x4 + c + 1]), a4);
            a5 = o.fma(x(in[x5 + c + 1]), a5);
            a6 = o.fma(x(in[x6 + c + 1]), a6);
            a7 = o.fma(x(in[x7 + c + 1]), a7);
        }
        if ((cols & 1) != 0) {
            FloatVector e = even(load(w.data, base + full * PAIR_BYTES));
            int c = cols - 1;
            a0 = e.fma(x(in[x0 + c]), a0);
            a1 = e.fma(x(in[x1 + c]), a1);
            a2 = e.fma(x(in[x2 + c]), a2);
            a3 = e.fma(x(in[x3 + c]), a3);
            a4 = e.fma(x(in[x4 + c]), a4);
            a5 = e.fma(x(in[x5 + c]), a5);
            a6 = e.fma(x(in[x6 + c]), a6);
            a7 = e.fma(x(in[x7 + c]), a7);
        }
        int rows = w.rows;
        int r = block * L;
        int o0 = t * rows + r;
        store(a0, out, o0, rows - r);
        store(a1, out, o0 + rows, rows - r);
        store(a2, out, o0 + 2 * rows, rows - r);
        store(a3, out, o0 + 3 * rows, rows - r);
        store(a4, out, o0 + 4 * rows, rows - r);
        store(a5, out, o0 + 5 * rows, rows - r);
        store(a6, out, o0 + 6 * rows, rows - r);
        store(a7, out, o0 + 7 * rows, rows - r);
    }

    /**
     * Two row blocks × tokens t..t+3: each broadcast activation feeds two FMAs (one per row block), half the
     * broadcasts per FMA of {@link #block1x8}, with the same eight accumulators.
     */
    private static void block2x4(PackedBF16 w, int block, float[] in, int t, float[] out) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        int cols = w.cols;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        long base = block * w.blockBytes();
        long next = base + w.blockBytes();
        int full = cols >> 1;
        for (int j = 0; j < full; j++) {
            IntVector p = load(w.data, base + j * PAIR_BYTES);
            IntVector q = load(w.data, next + j * PAIR_BYTES);
            FloatVector e = even(p);
            FloatVector f = even(q);
            int c = 2 * j;
            FloatVector v0 = x(in[x0 + c]);
            a0 = e.fma(v0, a0);
            b0 = f.fma(v0, b0);
            FloatVector v1 = x(in[x1 + c]);
            a1 = e.fma(v1, a1);
            b1 = f.fma(v1, b1);
            FloatVector v2 = x(in[x2 + c]);
            a2 = e.fma(v2, a2);
            b2 = f.fma(v2, b2);
            FloatVector v3 = x(in[x3 + c]);
            a3 = e.fma(v3, a3);
            b3 = f.fma(v3, b3);
            FloatVector o = odd(p);
            FloatVector g = odd(q);
            FloatVector u0 = x(in[x0 + c + 1]);
            a0 = o.fma(u0, a0);
            b0 = g.fma(u0, b0);
            FloatVector u1 = x(in[x1 + c + 1]);
            a1 = o.fma(u1, a1);
            b1 = g.fma(u1, b1);
            FloatVector u2 = x(in[x2 + c + 1]);
            a2 = o.fma(u2, a2);
            b2 = g.fma(u2, b2);
            FloatVector u3 = x(in[x3 + c + 1]);
            a3 = o.fma(u3, a3);
            b3 = g.fma(u3, b3);
        }
        if ((cols & 1) != 0) {
            FloatVector e = even(load(w.data, base + full * PAIR_BYTES));
            FloatVector f = even(load(w.data, next + full * PAIR_BYTES));
            int c = cols - 1;
            FloatVector v0 = x(in[x0 + c]);
            a0 = e.fma(v0, a0);
            b0 = f.fma(v0, b0);
            FloatVector v1 = x(in[x1 + c]);
            a1 = e.fma(v1, a1);
            b1 = f.fma(v1, b1);
            FloatVector v2 = x(in[x2 + c]);
            a2 = e.fma(v2, a2);
            b2 = f.fma(v2, b2);
            FloatVector v3 = x(in[x3 + c]);
            a3 = e.fma(v3, a3);
            b3 = f.fma(v3, b3);
        }
        int rows = w.rows;
        int r = block * L;
        int o0 = t * rows + r;
        store(a0, out, o0, rows - r);
        store(a1, out, o0 + rows, rows - r);
        store(a2, out, o0 + 2 * rows, rows - r);
        store(a3, out, o0 + 3 * rows, rows - r);
        store(b0, out, o0 + L, rows - r - L);
        store(b1, out, o0 + rows + L, rows - r - L);
        store(b2, out, o0 + 2 * rows + L, rows - r - L);
        store(b3, out, o0 + 3 * rows + L, rows - r - L);
    }

    /** One row block × tokens t..t+3. */
    private static void block1x4(PackedBF16 w, int block, float[] in, int t, float[] out) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
        int cols = w.cols;
        int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        long base = block * w.blockBytes();
        int full = cols >> 1;
        for (int j = 0; j < full; j++) {
            IntVector p = load(w.data, base + j * PAIR_BYTES);
            FloatVector e = even(p);
            int c = 2 * j;
            a0 = e.fma(x(in[x0 + c]), a0);
            a1 = e.fma(x(in[x1 + c]), a1);
            a2 = e.fma(x(in[x2 + c]), a2);
            a3 = e.fma(x(in[x3 + c]), a3);
            FloatVector o = odd(p);
            a0 = o.fma(x(in[x0 + c + 1]), a0);
            a1 = o.fma(x(in[x1 + c + 1]), a1);
            a2 = o.fma(x(in[x2 + c + 1]), a2);
            a3 = o.fma(x(in[x3 + c + 1]), a3);
        }
        if ((cols & 1) != 0) {
            FloatVector e = even(load(w.data, base + full * PAIR_BYTES));
            int c = cols - 1;
            a0 = e.fma(x(in[x0 + c]), a0);
            a1 = e.fma(x(in[x1 + c]), a1);
            a2 = e.fma(x(in[x2 + c]), a2);
            a3 = e.fma(x(in[x3 + c]), a3);
        }
        int rows = w.rows;
        int r = block * L;
        int o0 = t * rows + r;
        store(a0, out, o0, rows - r);
        store(a1, out, o0 + rows, rows - r);
        store(a2, out, o0 + 2 * rows, rows - r);
        store(a3, out, o0 + 3 * rows, rows - r);
    }

    /** Row blocks b..b+3 × token t: the decode kernel. */
    private static void blocks4x1(PackedBF16 w, int b, float[] in, int t, float[] out) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
        int cols = w.cols;
        int x0 = t * cols;
        long bytes = w.blockBytes();
        long b0 = b * bytes, b1 = b0 + bytes, b2 = b1 + bytes, b3 = b2 + bytes;
        int full = cols >> 1;
        for (int j = 0; j < full; j++) {
            long o = j * PAIR_BYTES;
            IntVector p0 = load(w.data, b0 + o);
            IntVector p1 = load(w.data, b1 + o);
            IntVector p2 = load(w.data, b2 + o);
            IntVector p3 = load(w.data, b3 + o);
            FloatVector xe = x(in[x0 + 2 * j]);
            a0 = even(p0).fma(xe, a0);
            a1 = even(p1).fma(xe, a1);
            a2 = even(p2).fma(xe, a2);
            a3 = even(p3).fma(xe, a3);
            FloatVector xo = x(in[x0 + 2 * j + 1]);
            a0 = odd(p0).fma(xo, a0);
            a1 = odd(p1).fma(xo, a1);
            a2 = odd(p2).fma(xo, a2);
            a3 = odd(p3).fma(xo, a3);
        }
        if ((cols & 1) != 0) {
            long o = full * PAIR_BYTES;
            FloatVector xe = x(in[x0 + cols - 1]);
            a0 = even(load(w.data, b0 + o)).fma(xe, a0);
            a1 = even(load(w.data, b1 + o)).fma(xe, a1);
            a2 = even(load(w.data, b2 + o)).fma(xe, a2);
            a3 = even(load(w.data, b3 + o)).fma(xe, a3);
        }
        int rows = w.rows;
        int r = b * L;
        int o0 = t * rows + r;
        store(a0, out, o0, rows - r);
        store(a1, out, o0 + L, rows - r - L);
        store(a2, out, o0 + 2 * L, rows - r - 2 * L);
        store(a3, out, o0 + 3 * L, rows - r - 3 * L);
    }

    /** One row block × token t: leftovers of a range. */
    private static void block1x1(PackedBF16 w, int block, float[] in, int t, float[] out) {
        FloatVector a = FloatVector.zero(F);
        int cols = w.cols;
        int x0 = t * cols;
        long base = block * w.blockBytes();
        int full = cols >> 1;
        for (int j = 0; j < full; j++) {
            IntVector p = load(w.data, base + j * PAIR_BYTES);
            a = even(p).fma(x(in[x0 + 2 * j]), a);
            a = odd(p).fma(x(in[x0 + 2 * j + 1]), a);
        }
        if ((cols & 1) != 0) {
            a = even(load(w.data, base + full * PAIR_BYTES)).fma(x(in[x0 + cols - 1]), a);
        }
        int r = block * L;
        store(a, out, t * w.rows + r, w.rows - r);
    }

    /** The rows of a block that exist (the last block's padding rows are dropped). */
    private static void store(FloatVector acc, float[] out, int offset, int validRows) {
        if (validRows >= L) {
            acc.intoArray(out, offset);
        } else if (validRows > 0) {
            acc.intoArray(out, offset, F.indexInRange(0, validRows));
        }
    }

    /** Scalar twin on the unpacked row-major weight: the plain definition, for tests. */
    static void rowsScalar(MemorySegment w, int rows, int cols, float[] in, float[] out, int tokens, int rowFrom,
                           int rowTo) {
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols * 2;
            for (int t = 0; t < tokens; t++) {
                float sum = 0f;
                for (int c = 0; c < cols; c++) {
                    sum += Float.intBitsToFloat((w.get(W_SHORT, base + 2L * c) & 0xFFFF) << 16) * in[t * cols + c];
                }
                out[t * rows + r] = sum;
            }
        }
    }
}
