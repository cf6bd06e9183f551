package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.Fp8E4m3;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * F8_E4M3 weight rows [rows, cols] (one byte per code, row-major, read in place from the checkpoint) times activations
 * that are already E4M3 values ({@link MatVecF8Input}): {@code out = (Σ_c W8[r,c]·x8[t,c]) · outScale}, the products
 * accumulated in FP32 (vLLM's ModelOpt FP8 linear; outScale = input_scale · weight_scale).
 *
 * <p>Decoding without a table: L codes (one float vector's worth) are loaded as bytes and sign-extended to ints in
 * one widening load, and {@code (code << 20) & 0x87F00000} read as a float is the code's value times 2^-120: the
 * sign copies land on bits 31..27 and the mask keeps bit 31, the exponent and mantissa bits land on bits 26..20
 * (a float subnormal for an E4M3 subnormal); it is {@link Fp8E4m3#decodeByBits} without its ×2^120. Each dot
 * product is multiplied by 2^120 once at the end, so there is no multiply per weight. The NaN codes 0x7F/0xFF
 * decode as ±480 this way (the twin reads them as NaN); a checkpoint has no NaN weights, and nothing here checks.
 * (Measured against the alternative of int loads, four codes per lane, and activations split into four phases:
 * that needs 11 integer ops per 4L codes instead of 8 and a split of the activations, and ran about 10% slower.)
 *
 * <p>Order of the sums, per (row, token): two FMA accumulators, a over the even blocks of L columns and b over
 * the odd ones (block j covers columns jL .. jL+L-1), in increasing j; then a + b, summed across lanes by
 * {@link Lanes#sum}; then the last {@code cols mod L} columns FMA'd onto that sum in order; then ×2^120, then
 * ×outScale. Both kernel shapes here (two rows × one token, one row × one token) keep exactly this order for each (row, token), so a token's output is bit-identical whatever shares the call or the thread split.
 *
 * <p>NOTE (bit identity with {@link #rowsScalar}): the scalar twin follows the same order with the table's unscaled
 * values, and is bit-identical to the vector kernel for every non-NaN weight code and every x8 that is an E4M3 value
 * (which the quantizer guarantees). Why: the scaled and unscaled computations differ by the exact factor 2^-120, and
 * a power-of-two scaling commutes with float rounding unless a result is subnormal or overflows in one of them.
 * Unscaled, every product and partial sum is a multiple of 2^-18 (E4M3's quantum 2^-9, squared) and below
 * 448²·cols, so all are normal floats or zero. Scaled, all are multiples of 2^-138; one below 2^-126 (subnormal)
 * then has at most 12 significant bits, so it is exact in both forms (a subnormal's quantum is 2^-149); the final
 * ×2^120 is exact too. With activations that are not E4M3 values the twin still agrees to float rounding, not bits.
 */
public final class MatVecF8 {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** One byte per float lane: a block of codes that widens to one int vector. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));
    /** Lanes of a vector: the twin needs it to sum in the kernel's order. */
    static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final float TWO_POW_120 = 0x1p120f;
    private static final int SIGN_AND_MAGNITUDE = 0x87F00000;

    private MatVecF8() {}

    /** Rows [rowFrom, rowTo) for all tokens: out[t*rows + r]; x8: [tokens][cols] E4M3 values. */
    public static void rowsVector(MemorySegment w, int rows, int cols, float[] x8, float[] out, int tokens,
                                  int rowFrom, int rowTo, float outScale) {
        int r = rowFrom;
        // weight-stationary: two rows serve every token while they are hot in L1. (A one-row × four-token kernel
        // that decoded each block once for four tokens ran at 0.7x the multiply-adds per second of this.)
        for (; r + 2 <= rowTo; r += 2) {
            for (int t = 0; t < tokens; t++) {
                rows2x1(w, rows, cols, x8, out, r, t, outScale);
            }
        }
        if (r < rowTo) {
            for (int t = 0; t < tokens; t++) {
                out[t * rows + r] = finish(w, (long) r * cols, cols, x8, t * cols, FloatVector.zero(F),
                        FloatVector.zero(F), outScale, 0);
            }
        }
    }

    /** The L codes at {@code offset}, each as its value × 2^-120 (see the class comment). */
    private static FloatVector codes(MemorySegment w, long offset) {
        IntVector wide = (IntVector) ByteVector.fromMemorySegment(B, w, offset, LE).convertShape(VectorOperators.B2I, I, 0);
        return wide.lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats();
    }

    private static FloatVector x(float[] x8, int offset) {
        return FloatVector.fromArray(F, x8, offset);
    }

    /**
     * Rows r, r+1 × token t: the decode kernel; each activation load feeds both rows. (Four rows, eight widening
     * loads in the loop, ran 3x slower than one row: C2 compiled it poorly; two rows ran 1.2x faster than one.)
     */
    private static void rows2x1(MemorySegment w, int rows, int cols, float[] x8, float[] out, int r, int t,
                                float outScale) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z, a1 = z, b1 = z;
        long w0 = (long) r * cols, w1 = w0 + cols;
        int xt = t * cols;
        int pairs = cols / (2 * L) * (2 * L);
        for (int c = 0; c < pairs; c += 2 * L) {
            FloatVector xa = x(x8, xt + c);
            FloatVector xb = x(x8, xt + c + L);
            a0 = codes(w, w0 + c).fma(xa, a0);
            b0 = codes(w, w0 + c + L).fma(xb, b0);
            a1 = codes(w, w1 + c).fma(xa, a1);
            b1 = codes(w, w1 + c + L).fma(xb, b1);
        }
        out[t * rows + r] = finish(w, w0, cols, x8, xt, a0, b0, outScale, pairs);
        out[t * rows + r + 1] = finish(w, w1, cols, x8, xt, a1, b1, outScale, pairs);
    }

    /**
     * The common end of every kernel for one (row, token): an odd last block into a, a + b, the lane sum, the
     * columns past the last whole block in order, ×2^120, ×outScale. from: the first column the caller has not
     * accumulated (a multiple of 2L).
     */
    private static float finish(MemorySegment w, long wRow, int cols, float[] x8, int xt, FloatVector a,
                                FloatVector b, float outScale, int from) {
        int c = from;
        for (; c + 2 * L <= cols; c += 2 * L) {   // only the one-row one-token path gets here with whole pairs
            a = codes(w, wRow + c).fma(x(x8, xt + c), a);
            b = codes(w, wRow + c + L).fma(x(x8, xt + c + L), b);
        }
        if (c + L <= cols) {
            a = codes(w, wRow + c).fma(x(x8, xt + c), a);
            c += L;
        }
        float s = Lanes.sum(a.add(b));
        for (; c < cols; c++) {
            int code = w.get(ValueLayout.JAVA_BYTE, wRow + c);
            float scaled = Float.intBitsToFloat(((code & 0x7F) << 20) | ((code & 0x80) << 24));
            s = Math.fma(scaled, x8[xt + c], s);
        }
        return s * TWO_POW_120 * outScale;
    }

    /**
     * Scalar twin of {@link #rowsVector}: the weights decoded by the table ({@link Fp8E4m3#decode}), unscaled, summed
     * in the kernel's order (see the class comment).
     */
    public static void rowsScalar(MemorySegment w, int rows, int cols, float[] x8, float[] out, int tokens,
                                  int rowFrom, int rowTo, float outScale) {
        int blocks = cols / L;
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols;
            for (int t = 0; t < tokens; t++) {
                int x = t * cols;
                float[][] acc = new float[2][L];
                for (int c = 0; c < blocks * L; c++) {
                    float[] a = acc[(c / L) % 2];
                    a[c % L] = Math.fma(weight(w, base + c), x8[x + c], a[c % L]);
                }
                float[] lanes = new float[L];
                for (int l = 0; l < L; l++) {
                    lanes[l] = acc[0][l] + acc[1][l];
                }
                float s = butterfly(lanes);
                for (int c = blocks * L; c < cols; c++) {
                    s = Math.fma(weight(w, base + c), x8[x + c], s);
                }
                out[t * rows + r] = s * outScale;
            }
        }
    }

    private static float weight(MemorySegment w, long offset) {
        return Fp8E4m3.decode(w.get(ValueLayout.JAVA_BYTE, offset));
    }

    /** {@link Lanes#sum}'s order: lane i + lane i^step for step = L/2 .. 1, then lane 0. */
    private static float butterfly(float[] v) {
        for (int step = v.length / 2; step >= 1; step /= 2) {
            float[] next = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                next[i] = v[i] + v[i ^ step];
            }
            v = next;
        }
        return v[0];
    }
}
