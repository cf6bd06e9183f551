package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * e^x lane-wise from plain IEEE operations (FMA, multiply, add, integer shift), within 2 ulp of {@link Math#exp}
 * for normal results.
 *
 * <p>NOTE: not {@code lanewise(VectorOperators.EXP)}: C2 maps that to a vendor math library when one is present and
 * otherwise (and before compilation) to the boxed per-lane Java fallback, which is both slow (it was the largest
 * single-threaded cost of a batched step, via SiLU) and not bit-equal to the library, so outputs would depend on
 * the JIT tier. Every operation here is exactly rounded, so the interpreter and C2 give the same bits.
 *
 * <p>Method: x = n·ln2 + r with n = round(x·log2 e) (the 1.5·2^23 shifter rounds to nearest), r reduced in two
 * FMAs (Cody–Waite ln2 split), e^r by the degree-6 minimax polynomial of Cephes' expf, times 2^n built in the
 * exponent field. x is clamped to [-86.64, 88.72]: below, results stay at about 2.4e-38 instead of going subnormal
 * or 0 (harmless for softmax weights and SiLU); at the top the result overflows to +inf as e^x does.
 */
final class VectorExp {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float SHIFTER = 12582912f;           // 1.5 * 2^23: adding it rounds to an integer
    private static final float LN2_HI = 0.693359375f;         // exact in 9 bits, so n*LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float MIN_X = -86.6433976f;          // n = -125: 2^(n-1) stays a normal float
    private static final float MAX_X = 88.7228390f;           // just above ln(Float.MAX_VALUE)
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private VectorExp() {}

    static FloatVector exp(FloatVector x) {
        x = x.max(MIN_X).min(MAX_X);
        FloatVector t = x.fma(LOG2E, SHIFTER);                 // SHIFTER + round(x·log2 e)
        FloatVector n = t.sub(SHIFTER);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(F, P2));
        p = p.fma(r, FloatVector.broadcast(F, P3));
        p = p.fma(r, FloatVector.broadcast(F, P4));
        p = p.fma(r, FloatVector.broadcast(F, P5));
        FloatVector r2 = r.mul(r);
        p = p.fma(r2, r).add(1f);                              // 1 + r + r²·P(r)
        // 2^(n-1) · 2: (n - 1) + 127 in the exponent field (the shifter's bits are 0x4B400000 + n), so n = 128 still
        // builds a finite scale and the final doubling overflows only where e^x does
        IntVector bits = t.reinterpretAsInts().sub(0x4B400000 - 126).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats()).mul(2f);
    }

    /** The same operations on one float: bit-identical to a lane of {@link #exp(FloatVector)} (for loop tails). */
    static float exp(float x) {
        x = Math.min(Math.max(x, MIN_X), MAX_X);
        float t = Math.fma(x, LOG2E, SHIFTER);
        float n = t - SHIFTER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float r2 = r * r;
        p = Math.fma(p, r2, r) + 1f;
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) - (0x4B400000 - 126)) << 23);
        return p * scale * 2f;
    }
}
