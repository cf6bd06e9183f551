package io.nemotron.core.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * BF16 weight rows times F32 activations; W stays BF16 in memory and is widened in registers.
 *
 * <p>bf16 -> f32 is {@code bits << 16}. Loading a pair of bf16 as one little-endian int puts element 2j in the
 * low half and 2j+1 in the high half, so {@code i << 16} is a float vector of the even elements and
 * {@code i & 0xFFFF0000} one of the odd elements: two ALU ops per 2L weights, no shuffles. The activations are
 * split once per call into even/odd arrays ({@link EvenOdd#split}) to line up with them.
 */
public final class MatVecBF16 {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort W_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final int HIGH_HALF = 0xFFFF0000;
    /**
     * Per-thread spill area for the accumulators of eight rows, reduced lane by lane in scalar code. NOTE: not
     * reduceLanes (its intrinsic and fallback add in different orders, so a row's bits would depend on the JIT
     * tier and hence on the thread split) and not a helper taking vectors (C2 gives up inlining in dot8Rows,
     * and a vector crossing a call is boxed).
     */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[8 * L]);

    private MatVecBF16() {}

    /**
     * Rows [rowFrom, rowTo) for all tokens. Eight rows at a time share each pair of activation loads (otherwise
     * two 64-byte x loads per 64 bytes of weights saturate L1 before DRAM). Weight-stationary: a block of eight
     * rows is dotted against every token while it is hot in L2, so W is streamed from memory once per call.
     * xEven/xOdd: {@link EvenOdd#split} of {@code in}.
     */
    public static void rowsVector(MemorySegment w, int rows, int cols, float[] in, float[] xEven, float[] xOdd,
                                  float[] out, int tokens, int rowFrom, int rowTo) {
        long rowBytes = (long) cols * 2;
        int pairs = EvenOdd.pairs(cols);
        float[] lanes = LANES.get();
        int r = rowFrom;
        for (; r + 8 <= rowTo; r += 8) {
            for (int t = 0; t < tokens; t++) {
                dot8Rows(w, r * rowBytes, rowBytes, cols, in, xEven, xOdd, t, pairs, out, t * rows + r, lanes);
            }
        }
        for (; r < rowTo; r++) {
            for (int t = 0; t < tokens; t++) {
                out[t * rows + r] = dot(w, r * rowBytes, cols, in, xEven, xOdd, t, pairs, lanes);
            }
        }
    }

    /** Scalar twin of {@link #rowsVector}: the plain definition on the interleaved input. */
    public static void rowsScalar(MemorySegment w, int rows, int cols, float[] in, float[] out, int tokens,
                                  int rowFrom, int rowTo) {
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols * 2;
            for (int t = 0; t < tokens; t++) {
                float sum = 0f;
                for (int c = 0; c < cols; c++) {
                    sum += weight(w, base, c) * in[t * cols + c];
                }
                out[t * rows + r] = sum;
            }
        }
    }

    private static float weight(MemorySegment w, long base, int c) {
        return Float.intBitsToFloat((w.get(W_SHORT, base + 2L * c) & 0xFFFF) << 16);
    }

    /**
     * One row · token t. NOTE: accumulates in exactly the order of {@link #dot8Rows} (even and odd accumulators,
     * their sum reduced lane by lane, then the scalar tail), so a row's result does not depend on the thread split that picked the kernel.
     */
    private static float dot(MemorySegment w, long base, int cols, float[] in, float[] xe, float[] xo,
                             int t, int pairs, float[] lanes) {
        FloatVector e = FloatVector.zero(F), o = FloatVector.zero(F);
        int xOff = t * pairs;
        int upper = I.loopBound(pairs);
        int j = 0;
        for (; j < upper; j += L) {
            IntVector p = IntVector.fromMemorySegment(I, w, base + 4L * j, LE);
            e = even(p).fma(FloatVector.fromArray(F, xe, xOff + j), e);
            o = odd(p).fma(FloatVector.fromArray(F, xo, xOff + j), o);
        }
        e.add(o).intoArray(lanes, 0);
        return tail(sumLanes(lanes, 0), w, base, 2 * j, cols, in, t * cols);
    }

    /**
     * Rows at base + k*rowBytes (k = 0..7) · token t; results to out[outOff + k]. Eight rows are eight
     * concurrent streams for the hardware prefetchers (measured: ~30% more DRAM throughput than four) and
     * 16 accumulators + 8 loads + 2 activations still fit the 32 vector registers. NOTE: the widening is written
     * out rather than calling even()/odd(): in a method this large C2 stops inlining the helpers, and a vector
     * crossing a call that is not inlined is boxed on the heap in every iteration.
     */
    private static void dot8Rows(MemorySegment w, long base, long rowBytes, int cols, float[] in, float[] xe,
                                 float[] xo, int t, int pairs, float[] out, int outOff, float[] lanes) {
        FloatVector z = FloatVector.zero(F);
        FloatVector e0 = z, o0 = z, e1 = z, o1 = z, e2 = z, o2 = z, e3 = z, o3 = z;
        FloatVector e4 = z, o4 = z, e5 = z, o5 = z, e6 = z, o6 = z, e7 = z, o7 = z;
        long b1 = base + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
        long b4 = b3 + rowBytes, b5 = b4 + rowBytes, b6 = b5 + rowBytes, b7 = b6 + rowBytes;
        int xOff = t * pairs;
        int upper = I.loopBound(pairs);
        int j = 0;
        for (; j < upper; j += L) {
            FloatVector xev = FloatVector.fromArray(F, xe, xOff + j);
            FloatVector xov = FloatVector.fromArray(F, xo, xOff + j);
            long o = 4L * j;
            IntVector p0 = IntVector.fromMemorySegment(I, w, base + o, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w, b1 + o, LE);
            IntVector p2 = IntVector.fromMemorySegment(I, w, b2 + o, LE);
            IntVector p3 = IntVector.fromMemorySegment(I, w, b3 + o, LE);
            IntVector p4 = IntVector.fromMemorySegment(I, w, b4 + o, LE);
            IntVector p5 = IntVector.fromMemorySegment(I, w, b5 + o, LE);
            IntVector p6 = IntVector.fromMemorySegment(I, w, b6 + o, LE);
            IntVector p7 = IntVector.fromMemorySegment(I, w, b7 + o, LE);
            e0 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e0);
            o0 = p0.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o0);
            e1 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e1);
            o1 = p1.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o1);
            e2 = p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e2);
            o2 = p2.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o2);
            e3 = p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e3);
            o3 = p3.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o3);
            e4 = p4.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e4);
            o4 = p4.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o4);
            e5 = p5.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e5);
            o5 = p5.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o5);
            e6 = p6.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e6);
            o6 = p6.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o6);
            e7 = p7.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xev, e7);
            o7 = p7.and(HIGH_HALF).reinterpretAsFloats().fma(xov, o7);
        }
        e0.add(o0).intoArray(lanes, 0 * L);
        e1.add(o1).intoArray(lanes, 1 * L);
        e2.add(o2).intoArray(lanes, 2 * L);
        e3.add(o3).intoArray(lanes, 3 * L);
        e4.add(o4).intoArray(lanes, 4 * L);
        e5.add(o5).intoArray(lanes, 5 * L);
        e6.add(o6).intoArray(lanes, 6 * L);
        e7.add(o7).intoArray(lanes, 7 * L);
        int inOff = t * cols;
        out[outOff] = tail(sumLanes(lanes, 0 * L), w, base, 2 * j, cols, in, inOff);
        out[outOff + 1] = tail(sumLanes(lanes, 1 * L), w, b1, 2 * j, cols, in, inOff);
        out[outOff + 2] = tail(sumLanes(lanes, 2 * L), w, b2, 2 * j, cols, in, inOff);
        out[outOff + 3] = tail(sumLanes(lanes, 3 * L), w, b3, 2 * j, cols, in, inOff);
        out[outOff + 4] = tail(sumLanes(lanes, 4 * L), w, b4, 2 * j, cols, in, inOff);
        out[outOff + 5] = tail(sumLanes(lanes, 5 * L), w, b5, 2 * j, cols, in, inOff);
        out[outOff + 6] = tail(sumLanes(lanes, 6 * L), w, b6, 2 * j, cols, in, inOff);
        out[outOff + 7] = tail(sumLanes(lanes, 7 * L), w, b7, 2 * j, cols, in, inOff);
    }

    /** Lane 0 + lane 1 + ... in that order: the one reduction order of this class. */
    private static float sumLanes(float[] lanes, int off) {
        float sum = 0f;
        for (int i = 0; i < L; i++) {
            sum += lanes[off + i];
        }
        return sum;
    }

    /**
     * Adds the columns [from, cols) that no full vector covered to a row's reduced sum.
     */
    static float tail(float sum, MemorySegment w, long base, int from, int cols, float[] in, int inOff) {
        for (int c = from; c < cols; c++) {
            sum += weight(w, base, c) * in[inOff + c];
        }
        return sum;
    }

    private static FloatVector even(IntVector pair) {
        return pair.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static FloatVector odd(IntVector pair) {
        return pair.and(HIGH_HALF).reinterpretAsFloats();
    }
}
