package io.nemotron.core.backend.cpu;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.LSHL;

import io.nemotron.core.weights.Fp8E4m3;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * F8_E4M3 weights ({@link PackedF8}) times activations that are already E4M3 values ({@link MatVecF8Input}):
 * {@code out = (Σ_c W8[r,c]·x8[t,c]) · outScale}, the products accumulated in FP32 (vLLM's ModelOpt FP8 linear;
 * outScale = input_scale · weight_scale), for one token (decode) or many (batched decode, prefill).
 *
 * <p>A vector lane is an output row, as in {@link MatMulBF16}: one int vector load holds a column quad of a block of
 * rows, and each decoded column is FMA'd with a broadcast activation; no horizontal sums. Decoding without a table:
 * a 16-bit arithmetic shift right by 4 of the loaded ints ({@code hi}) turns the high byte of each 16-bit half, a
 * code {@code s eeee mmm}, into {@code sssss eeee mmm ....}: the sign on the half's top five bits and the exponent
 * and mantissa four bits lower. The same after a 16-bit shift left by 8 ({@code lo}) does it for the low bytes. In
 * the int's upper half that is, under the mask 0x87F00000, the float with the code's sign, exponent bits 26..23 and
 * mantissa bits 22..20: the code's value times 2^-120 (a float subnormal for an E4M3 subnormal); the lower half is
 * shifted up by 16 first. So column 4q is lower(lo), 4q+1 lower(hi), 4q+2 upper(lo), 4q+3 upper(hi): 9 integer
 * operations per four vectors of weights. Each dot product is multiplied by 2^120 once at the end, so there is no
 * multiply per weight. The NaN codes 0x7F/0xFF decode as ±480 this way (the twin reads them as NaN); a checkpoint
 * has no NaN weights, and nothing here checks.
 *
 * <p>NOTE: the decoding is written out at every use rather than called: with helper methods the kernels passed C2's
 * node budget for inlining (NodeCountInliningCutoff), a helper left out boxed its vectors, and the kernel allocated
 * tens of KB per call and ran several times slower.
 *
 * <p>NOTE (order, and bit identity with {@link #rowsScalar}): every kernel here computes each (row, token) as one FMA
 * chain over the columns in order 0, 1, 2, …, then the zero columns that pad the last quad (the activations are
 * zero-padded there too), then ×2^120, then ×outScale; so a token's result is bit-identical however many tokens
 * share the call and whichever register block served it (greedy output is batch-invariant). The scalar twin follows
 * the same order with the table's unscaled values and is bit-identical to the vector kernel for every non-NaN weight
 * code and every x8 that is an E4M3 value (which the quantizer guarantees). Why: the scaled and unscaled computations
 * differ by the exact factor 2^-120, and a power-of-two scaling commutes with float rounding unless a result is
 * subnormal or overflows in one of them. Unscaled, every product and partial sum is a multiple of 2^-18 (E4M3's
 * quantum 2^-9, squared) and below 448²·cols, so all are normal floats or zero. Scaled, all are multiples of 2^-138;
 * one below 2^-126 (subnormal) then has at most 12 significant bits, so it is exact in both forms (a subnormal's
 * quantum is 2^-149); the final ×2^120 is exact too.
 */
final class MatMulF8 {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final int L = F.length();
    private static final long QUAD_BYTES = (long) L * Integer.BYTES;   // one column quad of a block
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final float TWO_POW_120 = 0x1p120f;
    private static final int SIGN_MAG = 0x87F00000;
    /** Row blocks decoded together: four independent FMA chains cover the FMA latency and share each broadcast. */
    static final int GROUP = 4;
    /** Per thread: the accumulators of a register block (at most eight vectors), stored to be scaled and copied out. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[8 * L]);

    private MatMulF8() {}

    /**
     * Row blocks [blockFrom, blockTo) for all tokens: out[t*rows + r]; x8: [tokens][{@link PackedF8#paddedCols()}]
     * E4M3 values, zero past cols.
     */
    static void rowBlocks(PackedF8 w, float[] x8, float[] out, int tokens, int blockFrom, int blockTo,
                          float outScale) {
        float[] lanes = LANES.get();
        int b = blockFrom;
        // weight-stationary: a group of blocks serves every token while it is hot in L1/L2
        for (; b + GROUP <= blockTo; b += GROUP) {
            int t = tokens4(w, x8, out, tokens, b, b + GROUP, outScale, lanes);
            for (; t < tokens; t++) {
                blocks4x1(w, b, x8, t, out, outScale, lanes);
            }
        }
        if (b < blockTo) {
            int t = tokens4(w, x8, out, tokens, b, blockTo, outScale, lanes);
            for (; t < tokens; t++) {
                for (int k = b; k < blockTo; k++) {
                    block1x1(w, k, x8, t, out, outScale, lanes);
                }
            }
        }
    }

    /** The 4-token register blocks over blocks [from, to); returns the first token left over. */
    private static int tokens4(PackedF8 w, float[] x8, float[] out, int tokens, int from, int to, float outScale,
                               float[] lanes) {
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            int k = from;
            for (; k + 2 <= to; k += 2) {
                block2x4(w, k, x8, t, out, outScale, lanes);
            }
            if (k < to) {
                block1x4(w, k, x8, t, out, outScale, lanes);
            }
        }
        return t;
    }

    /** Four row blocks × token t: the decode kernel. */
    private static void blocks4x1(PackedF8 w, int b, float[] x8, int t, float[] out, float outScale,
                                  float[] lanes) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
        int x0 = t * w.paddedCols();
        long bytes = w.blockBytes();
        long b0 = b * bytes, b1 = b0 + bytes, b2 = b1 + bytes, b3 = b2 + bytes;
        int quads = w.quads;
        for (int q = 0; q < quads; q++) {
            long o = q * QUAD_BYTES;
            IntVector p0 = IntVector.fromMemorySegment(I, w.data, b0 + o, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w.data, b1 + o, LE);
            IntVector p2 = IntVector.fromMemorySegment(I, w.data, b2 + o, LE);
            IntVector p3 = IntVector.fromMemorySegment(I, w.data, b3 + o, LE);
            IntVector h0 = p0.reinterpretAsShorts().lanewise(ASHR, 4).reinterpretAsInts();
            IntVector h1 = p1.reinterpretAsShorts().lanewise(ASHR, 4).reinterpretAsInts();
            IntVector h2 = p2.reinterpretAsShorts().lanewise(ASHR, 4).reinterpretAsInts();
            IntVector h3 = p3.reinterpretAsShorts().lanewise(ASHR, 4).reinterpretAsInts();
            IntVector l0 = p0.reinterpretAsShorts().lanewise(LSHL, 8).lanewise(ASHR, 4).reinterpretAsInts();
            IntVector l1 = p1.reinterpretAsShorts().lanewise(LSHL, 8).lanewise(ASHR, 4).reinterpretAsInts();
            IntVector l2 = p2.reinterpretAsShorts().lanewise(LSHL, 8).lanewise(ASHR, 4).reinterpretAsInts();
            IntVector l3 = p3.reinterpretAsShorts().lanewise(LSHL, 8).lanewise(ASHR, 4).reinterpretAsInts();
            int c = x0 + 4 * q;
            FloatVector v0 = FloatVector.broadcast(F, x8[c]);
            a0 = l0.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(v0, a0);
            a1 = l1.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(v0, a1);
            a2 = l2.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(v0, a2);
            a3 = l3.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(v0, a3);
            FloatVector v1 = FloatVector.broadcast(F, x8[c + 1]);
            a0 = h0.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(v1, a0);
            a1 = h1.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(v1, a1);
            a2 = h2.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(v1, a2);
            a3 = h3.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(v1, a3);
            FloatVector v2 = FloatVector.broadcast(F, x8[c + 2]);
            a0 = l0.and(SIGN_MAG).reinterpretAsFloats().fma(v2, a0);
            a1 = l1.and(SIGN_MAG).reinterpretAsFloats().fma(v2, a1);
            a2 = l2.and(SIGN_MAG).reinterpretAsFloats().fma(v2, a2);
            a3 = l3.and(SIGN_MAG).reinterpretAsFloats().fma(v2, a3);
            FloatVector v3 = FloatVector.broadcast(F, x8[c + 3]);
            a0 = h0.and(SIGN_MAG).reinterpretAsFloats().fma(v3, a0);
            a1 = h1.and(SIGN_MAG).reinterpretAsFloats().fma(v3, a1);
            a2 = h2.and(SIGN_MAG).reinterpretAsFloats().fma(v3, a2);
            a3 = h3.and(SIGN_MAG).reinterpretAsFloats().fma(v3, a3);
        }
        int rows = w.rows;
        int r = b * L;
        int o0 = t * rows + r;
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        finish(lanes, 0, out, o0, rows - r, outScale);
        finish(lanes, L, out, o0 + L, rows - r - L, outScale);
        finish(lanes, 2 * L, out, o0 + 2 * L, rows - r - 2 * L, outScale);
        finish(lanes, 3 * L, out, o0 + 3 * L, rows - r - 3 * L, outScale);
    }

    /** One row block × token t: leftovers of a range. */
    private static void block1x1(PackedF8 w, int block, float[] x8, int t, float[] out, float outScale,
                                  float[] lanes) {
        FloatVector a = FloatVector.zero(F);
        int x0 = t * w.paddedCols();
        long base = block * w.blockBytes();
        int quads = w.quads;
        for (int q = 0; q < quads; q++) {
            IntVector p = IntVector.fromMemorySegment(I, w.data, base + q * QUAD_BYTES, LE);
            IntVector h = p.reinterpretAsShorts().lanewise(ASHR, 4).reinterpretAsInts();
            IntVector l = p.reinterpretAsShorts().lanewise(LSHL, 8).lanewise(ASHR, 4).reinterpretAsInts();
            int c = x0 + 4 * q;
            a = l.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(FloatVector.broadcast(F, x8[c]), a);
            a = h.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats().fma(FloatVector.broadcast(F, x8[c + 1]), a);
            a = l.and(SIGN_MAG).reinterpretAsFloats().fma(FloatVector.broadcast(F, x8[c + 2]), a);
            a = h.and(SIGN_MAG).reinterpretAsFloats().fma(FloatVector.broadcast(F, x8[c + 3]), a);
        }
        int r = block * L;
        a.intoArray(lanes, 0);
        finish(lanes, 0, out, t * w.rows + r, w.rows - r, outScale);
    }

    /**
     * Two row blocks × tokens t..t+3: each decoded column feeds four FMAs (one per token), so a prefill pays the
     * decoding once per four tokens; eight accumulators.
     */
    private static void block2x4(PackedF8 w, int block, float[] x8, int t, float[] out, float outScale,
                                  float[] lanes) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
        int stride = w.paddedCols();
        int x0 = t * stride, x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
        long base = block * w.blockBytes();
        long next = base + w.blockBytes();
        int quads = w.quads;
        for (int q = 0; q < quads; q++) {
            IntVector p = IntVector.fromMemorySegment(I, w.data, base + q * QUAD_BYTES, LE);
            IntVector s = IntVector.fromMemorySegment(I, w.data, next + q * QUAD_BYTES, LE);
            IntVector hp = p.reinterpretAsShorts().lanewise(ASHR, 4).reinterpretAsInts();
            IntVector lp = p.reinterpretAsShorts().lanewise(LSHL, 8).lanewise(ASHR, 4).reinterpretAsInts();
            IntVector hs = s.reinterpretAsShorts().lanewise(ASHR, 4).reinterpretAsInts();
            IntVector ls = s.reinterpretAsShorts().lanewise(LSHL, 8).lanewise(ASHR, 4).reinterpretAsInts();
            int c = 4 * q;
            FloatVector e = lp.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats();
            FloatVector f = ls.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats();
            FloatVector v = FloatVector.broadcast(F, x8[x0 + c]);
            a0 = e.fma(v, a0);
            b0 = f.fma(v, b0);
            v = FloatVector.broadcast(F, x8[x1 + c]);
            a1 = e.fma(v, a1);
            b1 = f.fma(v, b1);
            v = FloatVector.broadcast(F, x8[x2 + c]);
            a2 = e.fma(v, a2);
            b2 = f.fma(v, b2);
            v = FloatVector.broadcast(F, x8[x3 + c]);
            a3 = e.fma(v, a3);
            b3 = f.fma(v, b3);
            e = hp.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats();
            f = hs.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats();
            v = FloatVector.broadcast(F, x8[x0 + c + 1]);
            a0 = e.fma(v, a0);
            b0 = f.fma(v, b0);
            v = FloatVector.broadcast(F, x8[x1 + c + 1]);
            a1 = e.fma(v, a1);
            b1 = f.fma(v, b1);
            v = FloatVector.broadcast(F, x8[x2 + c + 1]);
            a2 = e.fma(v, a2);
            b2 = f.fma(v, b2);
            v = FloatVector.broadcast(F, x8[x3 + c + 1]);
            a3 = e.fma(v, a3);
            b3 = f.fma(v, b3);
            e = lp.and(SIGN_MAG).reinterpretAsFloats();
            f = ls.and(SIGN_MAG).reinterpretAsFloats();
            v = FloatVector.broadcast(F, x8[x0 + c + 2]);
            a0 = e.fma(v, a0);
            b0 = f.fma(v, b0);
            v = FloatVector.broadcast(F, x8[x1 + c + 2]);
            a1 = e.fma(v, a1);
            b1 = f.fma(v, b1);
            v = FloatVector.broadcast(F, x8[x2 + c + 2]);
            a2 = e.fma(v, a2);
            b2 = f.fma(v, b2);
            v = FloatVector.broadcast(F, x8[x3 + c + 2]);
            a3 = e.fma(v, a3);
            b3 = f.fma(v, b3);
            e = hp.and(SIGN_MAG).reinterpretAsFloats();
            f = hs.and(SIGN_MAG).reinterpretAsFloats();
            v = FloatVector.broadcast(F, x8[x0 + c + 3]);
            a0 = e.fma(v, a0);
            b0 = f.fma(v, b0);
            v = FloatVector.broadcast(F, x8[x1 + c + 3]);
            a1 = e.fma(v, a1);
            b1 = f.fma(v, b1);
            v = FloatVector.broadcast(F, x8[x2 + c + 3]);
            a2 = e.fma(v, a2);
            b2 = f.fma(v, b2);
            v = FloatVector.broadcast(F, x8[x3 + c + 3]);
            a3 = e.fma(v, a3);
            b3 = f.fma(v, b3);
        }
        int rows = w.rows;
        int r = block * L;
        int o = t * rows + r;
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        b0.intoArray(lanes, 4 * L);
        b1.intoArray(lanes, 5 * L);
        b2.intoArray(lanes, 6 * L);
        b3.intoArray(lanes, 7 * L);
        finish(lanes, 0, out, o, rows - r, outScale);
        finish(lanes, L, out, o + rows, rows - r, outScale);
        finish(lanes, 2 * L, out, o + 2 * rows, rows - r, outScale);
        finish(lanes, 3 * L, out, o + 3 * rows, rows - r, outScale);
        finish(lanes, 4 * L, out, o + L, rows - r - L, outScale);
        finish(lanes, 5 * L, out, o + rows + L, rows - r - L, outScale);
        finish(lanes, 6 * L, out, o + 2 * rows + L, rows - r - L, outScale);
        finish(lanes, 7 * L, out, o + 3 * rows + L, rows - r - L, outScale);
    }

    /** One row block × tokens t..t+3. */
    private static void block1x4(PackedF8 w, int block, float[] x8, int t, float[] out, float outScale,
                                  float[] lanes) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
        int stride = w.paddedCols();
        int x0 = t * stride, x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
        long base = block * w.blockBytes();
        int quads = w.quads;
        for (int q = 0; q < quads; q++) {
            IntVector p = IntVector.fromMemorySegment(I, w.data, base + q * QUAD_BYTES, LE);
            IntVector h = p.reinterpretAsShorts().lanewise(ASHR, 4).reinterpretAsInts();
            IntVector l = p.reinterpretAsShorts().lanewise(LSHL, 8).lanewise(ASHR, 4).reinterpretAsInts();
            int c = 4 * q;
            FloatVector e = l.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats();
            a0 = e.fma(FloatVector.broadcast(F, x8[x0 + c]), a0);
            a1 = e.fma(FloatVector.broadcast(F, x8[x1 + c]), a1);
            a2 = e.fma(FloatVector.broadcast(F, x8[x2 + c]), a2);
            a3 = e.fma(FloatVector.broadcast(F, x8[x3 + c]), a3);
            e = h.lanewise(LSHL, 16).and(SIGN_MAG).reinterpretAsFloats();
            a0 = e.fma(FloatVector.broadcast(F, x8[x0 + c + 1]), a0);
            a1 = e.fma(FloatVector.broadcast(F, x8[x1 + c + 1]), a1);
            a2 = e.fma(FloatVector.broadcast(F, x8[x2 + c + 1]), a2);
            a3 = e.fma(FloatVector.broadcast(F, x8[x3 + c + 1]), a3);
            e = l.and(SIGN_MAG).reinterpretAsFloats();
            a0 = e.fma(FloatVector.broadcast(F, x8[x0 + c + 2]), a0);
            a1 = e.fma(FloatVector.broadcast(F, x8[x1 + c + 2]), a1);
            a2 = e.fma(FloatVector.broadcast(F, x8[x2 + c + 2]), a2);
            a3 = e.fma(FloatVector.broadcast(F, x8[x3 + c + 2]), a3);
            e = h.and(SIGN_MAG).reinterpretAsFloats();
            a0 = e.fma(FloatVector.broadcast(F, x8[x0 + c + 3]), a0);
            a1 = e.fma(FloatVector.broadcast(F, x8[x1 + c + 3]), a1);
            a2 = e.fma(FloatVector.broadcast(F, x8[x2 + c + 3]), a2);
            a3 = e.fma(FloatVector.broadcast(F, x8[x3 + c + 3]), a3);
        }
        int rows = w.rows;
        int r = block * L;
        int o = t * rows + r;
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
        finish(lanes, 0, out, o, rows - r, outScale);
        finish(lanes, L, out, o + rows, rows - r, outScale);
        finish(lanes, 2 * L, out, o + 2 * rows, rows - r, outScale);
        finish(lanes, 3 * L, out, o + 3 * rows, rows - r, outScale);
    }

    /**
     * lanes[from ..) ×2^120, then ×outScale, into the rows of a block that exist (the last block's padding rows are
     * dropped). NOTE: the accumulators go through memory rather than into a vector helper: the kernels are near C2's
     * node budget for inlining (NodeCountInliningCutoff), and a helper taking a vector that is not inlined boxes it on
     * every call (the kernels ran boxed, allocating, when the store was a vector helper).
     */
    private static void finish(float[] lanes, int from, float[] out, int offset, int validRows, float outScale) {
        int n = Math.min(L, validRows);
        for (int i = 0; i < n; i++) {
            out[offset + i] = lanes[from + i] * TWO_POW_120 * outScale;
        }
    }

    /**
     * Scalar twin on the unpacked row-major codes [rows][cols]: per (row, token) one FMA chain over the columns in
     * order with the table's values ({@link Fp8E4m3#decode}), unscaled, then the zero products of the padding
     * columns, then ×outScale (see the class comment). x8: [tokens][cols].
     */
    static void rowsScalar(MemorySegment w, int rows, int cols, float[] x8, float[] out, int tokens, int rowFrom,
                           int rowTo, float outScale) {
        int padding = (4 - cols % 4) % 4;
        for (int r = rowFrom; r < rowTo; r++) {
            long base = (long) r * cols;
            for (int t = 0; t < tokens; t++) {
                float s = 0f;
                for (int c = 0; c < cols; c++) {
                    s = Math.fma(Fp8E4m3.decode(w.get(ValueLayout.JAVA_BYTE, base + c)), x8[t * cols + c], s);
                }
                for (int c = 0; c < padding; c++) {
                    s = Math.fma(0f, 0f, s);   // -0.0 + +0.0 is +0.0: the padding can change a zero's sign
                }
                out[t * rows + r] = s * outScale;
            }
        }
    }
}
