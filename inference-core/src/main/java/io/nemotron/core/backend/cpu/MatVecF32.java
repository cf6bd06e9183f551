package io.nemotron.core.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * F32 weight rows times F32 activations. W: [rows, cols] little-endian in a segment (possibly mmapped, so no
 * alignment assumed); in: [tokens][cols]; out: [tokens][rows]. Vector kernel and its scalar twin.
 */
public final class MatVecF32 {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat W_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private MatVecF32() {}

    /**
     * Rows [rowFrom, rowTo) for all tokens. Four rows at a time share each activation load, which halves the
     * L1 traffic per weight byte so the loop keeps up with DRAM. Weight-stationary: a block of four rows is
     * dotted against every token while it is hot in L1/L2, so W is streamed from memory once per call.
     */
    public static void rowsVector(MemorySegment w, int rows, int cols, float[] in, float[] out, int tokens,
                                  int rowFrom, int rowTo) {
        long rowBytes = (long) cols * Float.BYTES;
        int r = rowFrom;
        for (; r + 4 <= rowTo; r += 4) {
            for (int t = 0; t < tokens; t++) {
                dot4Rows(w, r * rowBytes, rowBytes, in, t * cols, cols, out, t * rows + r);
            }
        }
        for (; r < rowTo; r++) {
            for (int t = 0; t < tokens; t++) {
                out[t * rows + r] = dot(w, r * rowBytes, in, t * cols, cols);
            }
        }
    }

    /** Scalar twin of {@link #rowsVector}: the plain definition, sequential float accumulation. */
    public static void rowsScalar(MemorySegment w, int rows, int cols, float[] in, float[] out, int tokens,
                                  int rowFrom, int rowTo) {
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols * Float.BYTES;
            for (int t = 0; t < tokens; t++) {
                float sum = 0f;
                for (int c = 0; c < cols; c++) {
                    sum += w.get(W_FLOAT, base + (long) c * Float.BYTES) * in[t * cols + c];
                }
                out[t * rows + r] = sum;
            }
        }
    }

    /**
     * One row · one token. NOTE: accumulates in exactly the order of {@link #dot4Rows} (one vector accumulator,
     * then the scalar tail), so a row's result does not depend on the thread split that picked the kernel.
     */
    static float dot(MemorySegment w, long base, float[] x, int xOff, int cols) {
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(cols);
        int c = 0;
        for (; c < upper; c += L) {
            acc = FloatVector.fromMemorySegment(F, w, base + (long) c * Float.BYTES, LE)
                    .fma(FloatVector.fromArray(F, x, xOff + c), acc);
        }
        float sum = Lanes.sum(acc);
        for (; c < cols; c++) {
            sum += w.get(W_FLOAT, base + (long) c * Float.BYTES) * x[xOff + c];
        }
        return sum;
    }

    /** Rows at base + k*rowBytes (k = 0..3) · one token; results to out[outOff + k]. */
    private static void dot4Rows(MemorySegment w, long base, long rowBytes, float[] x, int xOff, int cols,
                                 float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        long b1 = base + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
        int upper = F.loopBound(cols);
        int c = 0;
        for (; c < upper; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
            long o = (long) c * Float.BYTES;
            a0 = FloatVector.fromMemorySegment(F, w, base + o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, w, b1 + o, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, w, b2 + o, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, w, b3 + o, LE).fma(xv, a3);
        }
        float s0 = Lanes.sum(a0), s1 = Lanes.sum(a1);
        float s2 = Lanes.sum(a2), s3 = Lanes.sum(a3);
        for (; c < cols; c++) {
            float xc = x[xOff + c];
            long o = (long) c * Float.BYTES;
            s0 += w.get(W_FLOAT, base + o) * xc;
            s1 += w.get(W_FLOAT, b1 + o) * xc;
            s2 += w.get(W_FLOAT, b2 + o) * xc;
            s3 += w.get(W_FLOAT, b3 + o) * xc;
        }
        out[outOff] = s0;
        out[outOff + 1] = s1;
        out[outOff + 2] = s2;
        out[outOff + 3] = s3;
    }
}
