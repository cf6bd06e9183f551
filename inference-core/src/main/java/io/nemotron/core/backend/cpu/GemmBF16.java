package io.nemotron.core.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * BF16 weights times several tokens (prefill chunks, batched decode), where {@link MatVecBF16}'s per-token loop
 * would widen every weight once per token. Here four rows are widened once into an F32 even/odd tile that stays in
 * L1/L2, and a 4-row × 2-token register block runs 16 FMAs per 12 loads with no widening in the loop.
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
    private static final ValueLayout.OfShort W_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfInt W_PAIR = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final int HIGH_HALF = 0xFFFF0000;
    private static final int ROWS = 4;

    /** Per-thread tile: even and odd widened weights of ROWS rows ([ROWS][upper] each) and a lane spill area. */
    private static final class Scratch {
        float[] even = new float[0];
        float[] odd = new float[0];
        final float[] lanes = new float[L];

        void ensure(int floats) {
            if (even.length < floats) {   // grows to the widest weight once, then never again
                even = new float[floats];
                odd = new float[floats];
            }
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private GemmBF16() {}

    /** Rows [rowFrom, rowTo) for all tokens; xEven/xOdd as {@link EvenOdd#split} made them. */
    static void rows(MemorySegment w, int rows, int cols, float[] in, float[] xEven, float[] xOdd, float[] out,
                     int tokens, int rowFrom, int rowTo) {
        int pairs = EvenOdd.pairs(cols);
        int upper = I.loopBound(pairs);
        long rowBytes = (long) cols * 2;
        Scratch s = SCRATCH.get();
        s.ensure(ROWS * upper);
        int r = rowFrom;
        for (; r + ROWS <= rowTo; r += ROWS) {
            widen(w, r * rowBytes, rowBytes, upper, s.even, s.odd);
            int t = 0;
            for (; t + 2 <= tokens; t += 2) {
                block4x2(s, upper, pairs, xEven, xOdd, t, w, r * rowBytes, rowBytes, cols, in, out, rows, r);
            }
            for (; t < tokens; t++) {
                for (int k = 0; k < ROWS; k++) {
                    out[t * rows + r + k] = single(s, k, upper, pairs, xEven, xOdd, t, w, (r + k) * rowBytes, cols, in);
                }
            }
        }
        if (r < rowTo) {
            // the last rows of the range: the per-token kernel gives the same bits
            MatVecBF16.rowsVector(w, rows, cols, in, xEven, xOdd, out, tokens, r, rowTo);
        }
    }

    /**
     * even/odd F32 tile of ROWS rows: tile[k*upper + j] = element 2j (2j+1) of row k. A plain loop: the vector
     * form's reinterpretAsFloats was not always intrinsified here and fell back to a memory round trip.
     */
    private static void widen(MemorySegment w, long base, long rowBytes, int upper, float[] even, float[] odd) {
        for (int k = 0; k < ROWS; k++) {
            long b = base + k * rowBytes;
            int off = k * upper;
            for (int j = 0; j < upper; j++) {
                int p = w.get(W_PAIR, b + 4L * j);
                even[off + j] = Float.intBitsToFloat(p << 16);
                odd[off + j] = Float.intBitsToFloat(p & HIGH_HALF);
            }
        }
    }

    /** Four tile rows × tokens t, t+1: 16 accumulators. */
    private static void block4x2(Scratch s, int upper, int pairs, float[] xe, float[] xo, int t, MemorySegment w,
                                 long base, long rowBytes, int cols, float[] in, float[] out, int rows, int r) {
        float[] we = s.even;
        float[] wo = s.odd;
        FloatVector z = FloatVector.zero(F);
        FloatVector e00 = z, e01 = z, e10 = z, e11 = z, e20 = z, e21 = z, e30 = z, e31 = z;
        FloatVector o00 = z, o01 = z, o10 = z, o11 = z, o20 = z, o21 = z, o30 = z, o31 = z;
        int x0 = t * pairs;
        int x1 = x0 + pairs;
        for (int j = 0; j < upper; j += L) {
            FloatVector xe0 = FloatVector.fromArray(F, xe, x0 + j);
            FloatVector xe1 = FloatVector.fromArray(F, xe, x1 + j);
            FloatVector xo0 = FloatVector.fromArray(F, xo, x0 + j);
            FloatVector xo1 = FloatVector.fromArray(F, xo, x1 + j);
            FloatVector a = FloatVector.fromArray(F, we, j);
            e00 = a.fma(xe0, e00);
            e01 = a.fma(xe1, e01);
            a = FloatVector.fromArray(F, wo, j);
            o00 = a.fma(xo0, o00);
            o01 = a.fma(xo1, o01);
            a = FloatVector.fromArray(F, we, upper + j);
            e10 = a.fma(xe0, e10);
            e11 = a.fma(xe1, e11);
            a = FloatVector.fromArray(F, wo, upper + j);
            o10 = a.fma(xo0, o10);
            o11 = a.fma(xo1, o11);
            a = FloatVector.fromArray(F, we, 2 * upper + j);
            e20 = a.fma(xe0, e20);
            e21 = a.fma(xe1, e21);
            a = FloatVector.fromArray(F, wo, 2 * upper + j);
            o20 = a.fma(xo0, o20);
            o21 = a.fma(xo1, o21);
            a = FloatVector.fromArray(F, we, 3 * upper + j);
            e30 = a.fma(xe0, e30);
            e31 = a.fma(xe1, e31);
            a = FloatVector.fromArray(F, wo, 3 * upper + j);
            o30 = a.fma(xo0, o30);
            o31 = a.fma(xo1, o31);
        }
        float[] lanes = s.lanes;
        int tail = 2 * upper;
        int in0 = t * cols;
        int in1 = in0 + cols;
        int out0 = t * rows + r;
        int out1 = out0 + rows;
        e00.add(o00).intoArray(lanes, 0);
        out[out0] = tail(sumLanes(lanes), w, base, tail, cols, in, in0);
        e01.add(o01).intoArray(lanes, 0);
        out[out1] = tail(sumLanes(lanes), w, base, tail, cols, in, in1);
        e10.add(o10).intoArray(lanes, 0);
        out[out0 + 1] = tail(sumLanes(lanes), w, base + rowBytes, tail, cols, in, in0);
        e11.add(o11).intoArray(lanes, 0);
        out[out1 + 1] = tail(sumLanes(lanes), w, base + rowBytes, tail, cols, in, in1);
        e20.add(o20).intoArray(lanes, 0);
        out[out0 + 2] = tail(sumLanes(lanes), w, base + 2 * rowBytes, tail, cols, in, in0);
        e21.add(o21).intoArray(lanes, 0);
        out[out1 + 2] = tail(sumLanes(lanes), w, base + 2 * rowBytes, tail, cols, in, in1);
        e30.add(o30).intoArray(lanes, 0);
        out[out0 + 3] = tail(sumLanes(lanes), w, base + 3 * rowBytes, tail, cols, in, in0);
        e31.add(o31).intoArray(lanes, 0);
        out[out1 + 3] = tail(sumLanes(lanes), w, base + 3 * rowBytes, tail, cols, in, in1);
    }

    /** One tile row × one token (the odd token of a block). */
    private static float single(Scratch s, int k, int upper, int pairs, float[] xe, float[] xo, int t, MemorySegment w,
                                long base, int cols, float[] in) {
        FloatVector e = FloatVector.zero(F);
        FloatVector o = FloatVector.zero(F);
        int x = t * pairs;
        int off = k * upper;
        for (int j = 0; j < upper; j += L) {
            e = FloatVector.fromArray(F, s.even, off + j).fma(FloatVector.fromArray(F, xe, x + j), e);
            o = FloatVector.fromArray(F, s.odd, off + j).fma(FloatVector.fromArray(F, xo, x + j), o);
        }
        e.add(o).intoArray(s.lanes, 0);
        return tail(sumLanes(s.lanes), w, base, 2 * upper, cols, in, t * cols);
    }

    /** Lane 0 + lane 1 + ... in that order: MatVecBF16's one reduction order. */
    private static float sumLanes(float[] lanes) {
        float sum = 0f;
        for (int i = 0; i < L; i++) {
            sum += lanes[i];
        }
        return sum;
    }

    private static float tail(float sum, MemorySegment w, long base, int from, int cols, float[] in, int inOff) {
        for (int c = from; c < cols; c++) {
            sum += Float.intBitsToFloat((w.get(W_SHORT, base + 2L * c) & 0xFFFF) << 16) * in[inOff + c];
        }
        return sum;
    }
}
