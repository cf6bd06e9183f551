package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The activation side of an FP8 linear (vLLM's ModelOpt FP8 numerics): {@code x8 = saturate_e4m3(x / input_scale)}
 * as E4M3 values held in floats, once per Linear call (the kernel, {@link MatMulF8}, then reads them for every
 * row).
 *
 * <p>The vector quantizer equals {@code Fp8E4m3.decode(Fp8E4m3.encode(x / inputScale))} for every float: the
 * division is IEEE float division in both; a magnitude at or above 2^-6 (E4M3's smallest normal) keeps 3 mantissa
 * bits by integer round-to-nearest-even on its bits (a carry into the exponent is the rounding up to the next power
 * of two); a smaller one is rounded to a multiple of 2^-9 by adding and subtracting 2^14 (a float whose ulp is
 * 2^-9, so the float addition's own ties-to-even rounding does it); the magnitude is clamped to 448 first; the sign
 * is put back; NaN stays NaN.
 */
public final class MatVecF8Input {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final float MAX = 448f;
    private static final float SMALLEST_NORMAL = 0x1p-6f;
    /** Adding it to a magnitude below 2^-6 rounds that magnitude to a multiple of 2^-9 (its ulp is 2^-9). */
    private static final float SUBNORMAL_ROUNDER = 0x1p14f;
    private static final int DROPPED_BITS = 20;   // float mantissa bits E4M3 does not have: 23 - 3
    private static final int HALF_MINUS_ONE = (1 << (DROPPED_BITS - 1)) - 1;
    private static final int KEPT = -1 << DROPPED_BITS;
    private static final int SIGN = 0x80000000;

    private MatVecF8Input() {}

    /** x8[i] = the E4M3 value of in[i] / inputScale for i in [0, n). */
    public static void quantize(float[] in, int n, float inputScale, float[] x8) {
        quantize(in, 0, n, inputScale, x8, 0);
    }

    /** x8[to + i] = the E4M3 value of in[from + i] / inputScale for i in [0, n). */
    public static void quantize(float[] in, int from, int n, float inputScale, float[] x8, int to) {
        int upper = F.loopBound(n);
        int i = 0;
        for (; i < upper; i += L) {
            // saturate(v) written out: a vector helper C2 does not inline boxes its vectors
            FloatVector v = FloatVector.fromArray(F, in, from + i).div(inputScale);
            FloatVector a = v.abs().min(MAX);
            IntVector bits = a.reinterpretAsInts();
            IntVector lsb = bits.lanewise(VectorOperators.LSHR, DROPPED_BITS).and(1);
            FloatVector normal = bits.add(HALF_MINUS_ONE).add(lsb).and(KEPT).reinterpretAsFloats();
            FloatVector subnormal = a.add(SUBNORMAL_ROUNDER).sub(SUBNORMAL_ROUNDER);
            IntVector magnitude = normal.blend(subnormal, a.compare(VectorOperators.LT, SMALLEST_NORMAL)).reinterpretAsInts();
            FloatVector signed = magnitude.or(v.reinterpretAsInts().and(SIGN)).reinterpretAsFloats();
            // a NaN's payload could carry through the integer rounding into a number: keep it NaN explicitly
            signed.blend(v, v.test(VectorOperators.IS_NAN)).intoArray(x8, to + i);
        }
        for (; i < n; i++) {
            x8[to + i] = saturate(in[from + i] / inputScale);
        }
    }

    /** The scalar form of the vector loop in {@link #quantize}, for the tail. */
    static float saturate(float v) {
        if (Float.isNaN(v)) {
            return v;
        }
        float a = Math.min(Math.abs(v), MAX);
        float magnitude;
        if (a < SMALLEST_NORMAL) {
            magnitude = (a + SUBNORMAL_ROUNDER) - SUBNORMAL_ROUNDER;
        } else {
            int bits = Float.floatToRawIntBits(a);
            magnitude = Float.intBitsToFloat((bits + HALF_MINUS_ONE + ((bits >>> DROPPED_BITS) & 1)) & KEPT);
        }
        return Float.intBitsToFloat(Float.floatToRawIntBits(magnitude) | (Float.floatToRawIntBits(v) & SIGN));
    }
}
