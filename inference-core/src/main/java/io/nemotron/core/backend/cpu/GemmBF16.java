package io.nemotron.core.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * BF16 weights times several tokens (prefill chunks, batched decode). A 4-row × 2-token register block: each pair
 * vector of a row is loaded and widened in registers once ({@code << 16} / {@code & 0xFFFF0000}, as in
 * {@link MatVecBF16}) and used for two tokens, so an iteration runs 16 FMAs on 4 weight + 4 activation loads.
 * Measured faster than widening rows into an F32 tile first (the tile costs a scalar store pass and 12 loads per 16 FMAs).
 * The 8 results of a block are spilled together and reduced in one interleaved scalar loop, so the 8 fixed-order
 * add chains overlap instead of running back to back.
 *
 * <p>NOTE: every (row, token) result is bit-identical to {@link MatVecBF16}'s: the same even and odd vector
 * accumulators over the same j order, e+o reduced lane 0..L-1 in sequence, then the same scalar tail. So a token's
 * logits do not depend on how many other tokens share its step (greedy output is batch-invariant).
 */
final class GemmBF16 {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int HIGH_HALF = 0xFFFF0000;
    private static final int ROWS = 4;
    /** Per-thread spill area for the 8 accumulators of a block (see MatVecBF16 on why not reduceLanes). */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[8 * L]);

    private GemmBF16() {}

    /** Rows [rowFrom, rowTo) for all tokens; xEven/xOdd as {@link EvenOdd#split} made them. */
    static void rows(MemorySegment w, int rows, int cols, float[] in, float[] xEven, float[] xOdd, float[] out,
                     int tokens, int rowFrom, int rowTo) {
        int pairs = EvenOdd.pairs(cols);
        int upper = I.loopBound(pairs);
        long rowBytes = (long) cols * 2;
        float[] lanes = LANES.get();
        int r = rowFrom;
        int tEven = tokens & ~1;
        for (; r + ROWS <= rowTo; r += ROWS) {
            for (int t = 0; t < tEven; t += 2) {
                block4x2(w, r * rowBytes, rowBytes, upper, pairs, xEven, xOdd, t, cols, in, out, rows, r, lanes);
            }
            if (tEven < tokens) {
                block4x1(w, r * rowBytes, rowBytes, upper, pairs, xEven, xOdd, tEven, cols, in, out, rows, r, lanes);
            }
        }
        if (r < rowTo) {
            // the last rows of the range: the per-token kernel gives the same bits
            MatVecBF16.rowsVector(w, rows, cols, in, xEven, xOdd, out, tokens, r, rowTo);
        }
    }

    /** Rows r..r+3 × tokens t, t+1: 16 accumulators. */
    private static void block4x2(MemorySegment w, long base, long rowBytes, int upper, int pairs, float[] xe,
                                 float[] xo, int t, int cols, float[] in, float[] out, int rows, int r, float[] lanes) {
        FloatVector z = FloatVector.zero(F);
        FloatVector e00 = z, e01 = z, e10 = z, e11 = z, e20 = z, e21 = z, e30 = z, e31 = z;
        FloatVector o00 = z, o01 = z, o10 = z, o11 = z, o20 = z, o21 = z, o30 = z, o31 = z;
        long b1 = base + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
        int x0 = t * pairs;
        int x1 = x0 + pairs;
        for (int j = 0; j < upper; j += L) {
            FloatVector xe0 = FloatVector.fromArray(F, xe, x0 + j);
            FloatVector xe1 = FloatVector.fromArray(F, xe, x1 + j);
            FloatVector xo0 = FloatVector.fromArray(F, xo, x0 + j);
            FloatVector xo1 = FloatVector.fromArray(F, xo, x1 + j);
            long o = 4L * j;
            IntVector p = IntVector.fromMemorySegment(I, w, base + o, LE);
            FloatVector a = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            e00 = a.fma(xe0, e00);
            e01 = a.fma(xe1, e01);
            a = p.and(HIGH_HALF).reinterpretAsFloats();
            o00 = a.fma(xo0, o00);
            o01 = a.fma(xo1, o01);
            p = IntVector.fromMemorySegment(I, w, b1 + o, LE);
            a = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            e10 = a.fma(xe0, e10);
            e11 = a.fma(xe1, e11);
            a = p.and(HIGH_HALF).reinterpretAsFloats();
            o10 = a.fma(xo0, o10);
            o11 = a.fma(xo1, o11);
            p = IntVector.fromMemorySegment(I, w, b2 + o, LE);
            a = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            e20 = a.fma(xe0, e20);
            e21 = a.fma(xe1, e21);
            a = p.and(HIGH_HALF).reinterpretAsFloats();
            o20 = a.fma(xo0, o20);
            o21 = a.fma(xo1, o21);
            p = IntVector.fromMemorySegment(I, w, b3 + o, LE);
            a = p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            e30 = a.fma(xe0, e30);
            e31 = a.fma(xe1, e31);
            a = p.and(HIGH_HALF).reinterpretAsFloats();
            o30 = a.fma(xo0, o30);
            o31 = a.fma(xo1, o31);
        }
        e00.add(o00).intoArray(lanes, 0);
        e10.add(o10).intoArray(lanes, L);
        e20.add(o20).intoArray(lanes, 2 * L);
        e30.add(o30).intoArray(lanes, 3 * L);
        e01.add(o01).intoArray(lanes, 4 * L);
        e11.add(o11).intoArray(lanes, 5 * L);
        e21.add(o21).intoArray(lanes, 6 * L);
        e31.add(o31).intoArray(lanes, 7 * L);
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        for (int i = 0; i < L; i++) {
            s0 += lanes[i];
            s1 += lanes[L + i];
            s2 += lanes[2 * L + i];
            s3 += lanes[3 * L + i];
            s4 += lanes[4 * L + i];
            s5 += lanes[5 * L + i];
            s6 += lanes[6 * L + i];
            s7 += lanes[7 * L + i];
        }
        int tail = 2 * upper;
        int in0 = t * cols;
        int in1 = in0 + cols;
        if (tail < cols) {
            s0 = tail(s0, w, base, tail, cols, in, in0);
            s1 = tail(s1, w, b1, tail, cols, in, in0);
            s2 = tail(s2, w, b2, tail, cols, in, in0);
            s3 = tail(s3, w, b3, tail, cols, in, in0);
            s4 = tail(s4, w, base, tail, cols, in, in1);
            s5 = tail(s5, w, b1, tail, cols, in, in1);
            s6 = tail(s6, w, b2, tail, cols, in, in1);
            s7 = tail(s7, w, b3, tail, cols, in, in1);
        }
        int out0 = t * rows + r;
        int out1 = out0 + rows;
        out[out0] = s0;
        out[out0 + 1] = s1;
        out[out0 + 2] = s2;
        out[out0 + 3] = s3;
        out[out1] = s4;
        out[out1 + 1] = s5;
        out[out1 + 2] = s6;
        out[out1 + 3] = s7;
    }

    /** Rows r..r+3 × token t (the odd token of a call). */
    private static void block4x1(MemorySegment w, long base, long rowBytes, int upper, int pairs, float[] xe,
                                 float[] xo, int t, int cols, float[] in, float[] out, int rows, int r, float[] lanes) {
        FloatVector z = FloatVector.zero(F);
        FloatVector e0 = z, e1 = z, e2 = z, e3 = z, o0 = z, o1 = z, o2 = z, o3 = z;
        long b1 = base + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
        int x0 = t * pairs;
        for (int j = 0; j < upper; j += L) {
            FloatVector xev = FloatVector.fromArray(F, xe, x0 + j);
            FloatVector xov = FloatVector.fromArray(F, xo, x0 + j);
            long o = 4L * j;
            IntVector p0 = IntVector.fromMemorySegment(I, w, base + o, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w, b1 + o, LE);
            IntVector p2 = IntVector.fromMemorySegment(I, w, b2 + o, LE);
            IntVector p3 = IntVector.fromMemorySegment(I, w, b3 + o, LE);
            e0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e0);
            o0 = p0.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o0);
            e1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e1);
            o1 = p1.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o1);
            e2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e2);
            o2 = p2.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o2);
            e3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e3);
            o3 = p3.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o3);
        }
        e0.add(o0).intoArray(lanes, 0);
        e1.add(o1).intoArray(lanes, L);
        e2.add(o2).intoArray(lanes, 2 * L);
        e3.add(o3).intoArray(lanes, 3 * L);
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        for (int i = 0; i < L; i++) {
            s0 += lanes[i];
            s1 += lanes[L + i];
            s2 += lanes[2 * L + i];
            s3 += lanes[3 * L + i];
        }
        int tail = 2 * upper;
        int in0 = t * cols;
        if (tail < cols) {
            s0 = tail(s0, w, base, tail, cols, in, in0);
            s1 = tail(s1, w, b1, tail, cols, in, in0);
            s2 = tail(s2, w, b2, tail, cols, in, in0);
            s3 = tail(s3, w, b3, tail, cols, in, in0);
        }
        int out0 = t * rows + r;
        out[out0] = s0;
        out[out0 + 1] = s1;
        out[out0 + 2] = s2;
        out[out0 + 3] = s3;
    }

    /** The scalar tail of MatVecBF16 itself: one definition of the leftover columns for both kernels. */
    private static float tail(float sum, MemorySegment w, long base, int from, int cols, float[] in, int inOff) {
        return MatVecBF16.tail(sum, w, base, from, cols, in, inOff);
    }
}
