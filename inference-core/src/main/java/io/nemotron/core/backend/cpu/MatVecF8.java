package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.Fp8E4m3;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
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
 * (The alternative of int loads, four codes per lane, with the activations split into four phases needs 11 integer
 * ops per 4L codes instead of 8, and the split; in a micro benchmark it ran within 10% of this, either way.)
 *
 * <p>Order of the sums, per (row, token): one FMA accumulator over the blocks of L columns (block j covers columns
 * jL .. jL+L-1) in increasing j; summed across lanes in {@link Lanes#sum}'s order ({@link #sum}); then the columns
 * past the last whole block ({@link #blocks}) FMA'd onto that sum in order; then ×2^120, then ×outScale. Both kernel
 * shapes here (eight rows × one token, one row × one token) keep exactly this order for each (row, token), so a
 * token's output is bit-identical whatever shares the call or the thread split.
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
    /**
     * One byte per float lane: a block of codes that widens to one int vector. The smallest vector shape is 64 bits,
     * so where a float vector has 4 lanes (128-bit vectors) a load reads 8 bytes for its 4 codes.
     */
    private static final VectorSpecies<Byte> B =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.length() * 8)));
    /** Lanes of a vector: the twin needs it to sum in the kernel's order. */
    static final int L = F.length();
    /** Rows the decode kernel runs together; a range of rows is best split in multiples of it. */
    static final int ROWS = 8;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final float TWO_POW_120 = 0x1p120f;
    private static final int SIGN_AND_MAGNITUDE = 0x87F00000;
    /** Bytes a widening load reads past its L codes (0 unless vectors have 4 lanes); they must be inside the row. */
    private static final int OVERREAD = B.length() - F.length();
    /** Per thread: the accumulators of {@link #ROWS} rows, L lanes each, stored to be summed. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[ROWS * L]);

    private MatVecF8() {}

    /**
     * A copy of an FP8 weight (scales kept) in native memory, 64-byte aligned, made once by the backend as it packs
     * BF16 weights. Why: the kernels' loads go through JDK code shared by every memory-segment load, whose type
     * profile then sees the file-mapped FP8 segments beside the native packed BF16 ones; C2 compiled the FP8 kernel
     * with that two-type profile and it read the 1B model's FP8 weights at 6 GB/s instead of 9 (one thread, same
     * process, native copies only vs both kinds). It costs the FP8 weights' size again, as PackedBF16 does for BF16.
     */
    public static Tensor inNativeMemory(Tensor weight) {
        MemorySegment copy = Arena.ofAuto().allocate(weight.data().byteSize(), 64);
        copy.copyFrom(weight.data());
        return new Tensor(weight.name(), weight.dtype(), weight.shape(), copy, weight.scales());
    }

    /** Whole blocks of L columns the vector code covers in a row of {@code cols}; the rest is the scalar tail. */
    static int blocks(int cols) {
        return Math.max(0, cols - OVERREAD) / L;
    }

    /** Rows [rowFrom, rowTo) for all tokens: out[t*rows + r]; x8: [tokens][cols] E4M3 values. */
    public static void rowsVector(MemorySegment w, int rows, int cols, float[] x8, float[] out, int tokens,
                                  int rowFrom, int rowTo, float outScale) {
        float[] lanes = LANES.get();
        int r = rowFrom;
        // weight-stationary: eight rows serve every token while they are hot in L1/L2
        for (; r + ROWS <= rowTo; r += ROWS) {
            for (int t = 0; t < tokens; t++) {
                rows8x1(w, rows, cols, x8, out, r, t, outScale, lanes);
            }
        }
        for (; r < rowTo; r++) {
            for (int t = 0; t < tokens; t++) {
                row1x1(w, rows, cols, x8, out, r, t, outScale, lanes);
            }
        }
    }

    /*
     * NOTE: the decoding is written out at every load rather than called: a helper taking or returning vectors that
     * C2 does not inline (a call site it had not yet seen as hot: "callee is too large") boxes every vector, and the
     * kernel ran 4x slower for the rest of the run. Each load below is
     *   ((IntVector) <L bytes>.convertShape(B2I, I, 0)).lanewise(LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats()
     */

    /**
     * Rows r..r+7 × token t: the decode kernel. Eight rows are eight independent memory streams and eight FMA
     * chains, and each activation load feeds all of them; one thread read weights from DRAM 1.6x faster this way
     * than two rows at a time (which stall on memory latency between the decoding work), and 1.25x faster than four.
     */
    private static void rows8x1(MemorySegment w, int rows, int cols, float[] x8, float[] out, int r, int t,
                                float outScale, float[] lanes) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
        long w0 = (long) r * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
        long w4 = w3 + cols, w5 = w4 + cols, w6 = w5 + cols, w7 = w6 + cols;
        int xt = t * cols;
        int end = blocks(cols) * L;
        for (int c = 0; c < end; c += L) {
            FloatVector x = FloatVector.fromArray(F, x8, xt + c);
            a0 = ((IntVector) ByteVector.fromMemorySegment(B, w, w0 + c, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().fma(x, a0);
            a1 = ((IntVector) ByteVector.fromMemorySegment(B, w, w1 + c, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().fma(x, a1);
            a2 = ((IntVector) ByteVector.fromMemorySegment(B, w, w2 + c, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().fma(x, a2);
            a3 = ((IntVector) ByteVector.fromMemorySegment(B, w, w3 + c, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().fma(x, a3);
            a4 = ((IntVector) ByteVector.fromMemorySegment(B, w, w4 + c, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().fma(x, a4);
            a5 = ((IntVector) ByteVector.fromMemorySegment(B, w, w5 + c, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().fma(x, a5);
            a6 = ((IntVector) ByteVector.fromMemorySegment(B, w, w6 + c, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().fma(x, a6);
            a7 = ((IntVector) ByteVector.fromMemorySegment(B, w, w7 + c, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().fma(x, a7);
        }
        // the lanes go through memory and are summed there: eight Lanes.sum calls made the method too big for C2 to
        // inline them all, and one left out boxed its vector (DecodeAllocation-style test: 96 bytes a row)
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        a4.intoArray(lanes, 4 * L);
        a5.intoArray(lanes, 5 * L);
        a6.intoArray(lanes, 6 * L);
        a7.intoArray(lanes, 7 * L);
        int o = t * rows + r;
        out[o] = tail(w, w0, end, cols, x8, xt, sum(lanes, 0)) * TWO_POW_120 * outScale;
        out[o + 1] = tail(w, w1, end, cols, x8, xt, sum(lanes, L)) * TWO_POW_120 * outScale;
        out[o + 2] = tail(w, w2, end, cols, x8, xt, sum(lanes, 2 * L)) * TWO_POW_120 * outScale;
        out[o + 3] = tail(w, w3, end, cols, x8, xt, sum(lanes, 3 * L)) * TWO_POW_120 * outScale;
        out[o + 4] = tail(w, w4, end, cols, x8, xt, sum(lanes, 4 * L)) * TWO_POW_120 * outScale;
        out[o + 5] = tail(w, w5, end, cols, x8, xt, sum(lanes, 5 * L)) * TWO_POW_120 * outScale;
        out[o + 6] = tail(w, w6, end, cols, x8, xt, sum(lanes, 6 * L)) * TWO_POW_120 * outScale;
        out[o + 7] = tail(w, w7, end, cols, x8, xt, sum(lanes, 7 * L)) * TWO_POW_120 * outScale;
    }

    /** Row r × token t, in the same order: rows left over from the blocks of eight. */
    private static void row1x1(MemorySegment w, int rows, int cols, float[] x8, float[] out, int r, int t,
                               float outScale, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F);
        long w0 = (long) r * cols;
        int xt = t * cols;
        int end = blocks(cols) * L;
        for (int c = 0; c < end; c += L) {
            FloatVector x = FloatVector.fromArray(F, x8, xt + c);
            a0 = ((IntVector) ByteVector.fromMemorySegment(B, w, w0 + c, LE).convertShape(VectorOperators.B2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 20).and(SIGN_AND_MAGNITUDE).reinterpretAsFloats().fma(x, a0);
        }
        a0.intoArray(lanes, 0);
        out[t * rows + r] = tail(w, w0, end, cols, x8, xt, sum(lanes, 0)) * TWO_POW_120 * outScale;
    }

    /**
     * The sum of lanes[off .. off+L) in {@link Lanes#sum}'s butterfly order: lane 0 of (lane i + lane i^step, step =
     * L/2 .. 1), computed in place on the lanes that lane 0 depends on (i < step at each level), so the same bits.
     */
    static float sum(float[] lanes, int off) {
        for (int step = L / 2; step >= 1; step /= 2) {
            for (int i = 0; i < step; i++) {
                lanes[off + i] = lanes[off + i] + lanes[off + i + step];
            }
        }
        return lanes[off];
    }

    /** Columns [from, cols) FMA'd onto s in order, each weight scaled by 2^-120 as the vector part's are. */
    private static float tail(MemorySegment w, long wRow, int from, int cols, float[] x8, int xt, float s) {
        for (int c = from; c < cols; c++) {
            int code = w.get(ValueLayout.JAVA_BYTE, wRow + c);
            float scaled = Float.intBitsToFloat(((code & 0x7F) << 20) | ((code & 0x80) << 24));
            s = Math.fma(scaled, x8[xt + c], s);
        }
        return s;
    }

    /**
     * Scalar twin of {@link #rowsVector}: the weights decoded by the table ({@link Fp8E4m3#decode}), unscaled, summed
     * in the kernel's order (see the class comment).
     */
    public static void rowsScalar(MemorySegment w, int rows, int cols, float[] x8, float[] out, int tokens,
                                  int rowFrom, int rowTo, float outScale) {
        int blocks = blocks(cols);
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols;
            for (int t = 0; t < tokens; t++) {
                int x = t * cols;
                float[] lanes = new float[L];
                for (int c = 0; c < blocks * L; c++) {
                    lanes[c % L] = Math.fma(weight(w, base + c), x8[x + c], lanes[c % L]);
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
