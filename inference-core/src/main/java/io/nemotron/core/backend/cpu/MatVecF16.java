package io.nemotron.core.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * F16 weight rows times F32 activations; W stays F16 in memory and is widened in registers with the exact
 * semantics of {@link Float#float16ToFloat} for every finite and infinite value, subnormals included; a NaN
 * stays a NaN (its payload is kept, but whether it comes back quieted differs between that method's intrinsic
 * and interpreted forms, so bit equality is not promised there).
 *
 * <p>The Vector API has no half-float conversion, so it is done with int ops on weight pairs loaded as ints
 * (as {@link MatMulBF16} does for bf16): {@code (h & 0x7FFF) << 13} read as a float is the value scaled by 2^-112 for normal
 * and subnormal halves alike, so one multiply by 2^112 re-biases the exponent exactly; exponent 31 (inf/NaN)
 * is patched with a blend, and the sign is OR-ed back.
 */
public final class MatVecF16 {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort W_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final float TWO_POW_112 = 0x1p112f;

    private MatVecF16() {}

    /**
     * Rows [rowFrom, rowTo) for all tokens, weight-stationary: each row is dotted against every token while it
     * is hot in L1, so W is streamed once per call. xEven/xOdd: {@link EvenOdd#split} of {@code in}.
     */
    public static void rowsVector(MemorySegment w, int rows, int cols, float[] in, float[] xEven, float[] xOdd,
                                  float[] out, int tokens, int rowFrom, int rowTo) {
        long rowBytes = (long) cols * 2;
        int pairs = EvenOdd.pairs(cols);
        for (int r = rowFrom; r < rowTo; r++) {
            long base = r * rowBytes;
            for (int t = 0; t < tokens; t++) {
                out[t * rows + r] = dot(w, base, cols, in, xEven, xOdd, t, pairs);
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
                    sum += Float.float16ToFloat(w.get(W_SHORT, base + 2L * c)) * in[t * cols + c];
                }
                out[t * rows + r] = sum;
            }
        }
    }

    private static float dot(MemorySegment w, long base, int cols, float[] in, float[] xe, float[] xo,
                             int t, int pairs) {
        FloatVector e0 = FloatVector.zero(F), o0 = FloatVector.zero(F);
        int xOff = t * pairs;
        int upper = I.loopBound(pairs);
        int j = 0;
        for (; j < upper; j += L) {
            IntVector p = IntVector.fromMemorySegment(I, w, base + 4L * j, LE);
            e0 = widen(p.and(0xFFFF)).fma(FloatVector.fromArray(F, xe, xOff + j), e0);
            o0 = widen(p.lanewise(VectorOperators.LSHR, 16)).fma(FloatVector.fromArray(F, xo, xOff + j), o0);
        }
        float sum = Lanes.sum(e0.add(o0));
        int inOff = t * cols;
        for (int c = 2 * j; c < cols; c++) {
            sum += Float.float16ToFloat(w.get(W_SHORT, base + 2L * c)) * in[inOff + c];
        }
        return sum;
    }

    /** h: one half-float bit pattern per int lane (upper 16 bits zero) -> the float it denotes. */
    static FloatVector widen(IntVector h) {
        IntVector magnitude = h.and(0x7FFF);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(TWO_POW_112).reinterpretAsInts();
        VectorMask<Integer> infOrNaN = magnitude.compare(VectorOperators.GE, 0x7C00);
        IntVector bits = finite.blend(shifted.or(0x7F800000), infOrNaN);
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return bits.or(sign).reinterpretAsFloats();
    }
}
