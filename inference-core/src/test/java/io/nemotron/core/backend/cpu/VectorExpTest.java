package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The vector exp against double-precision Math.exp: ulp error over the whole normal range and its edges. */
class VectorExpTest {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private static float[] exp(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i += F.length()) {
            VectorExp.exp(FloatVector.fromArray(F, x, i)).intoArray(out, i);
        }
        return out;
    }

    @Test
    void withinTwoUlpOfTheExactValueAcrossTheNormalRange() {
        int n = F.length() * 40_000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = -86.6f + (88.7f + 86.6f) * i / (n - 1);   // includes -86.6, 0 and 88.7
        }
        float[] got = exp(x);
        for (int i = 0; i < n; i++) {
            double exact = Math.exp(x[i]);
            double ulp = Math.ulp((float) exact);
            assertTrue(Math.abs(got[i] - exact) <= 2 * ulp, "x=" + x[i] + " got " + got[i] + " exact " + exact);
        }
    }

    @Test
    void scalarTwinGivesEveryLaneBitForBit() {
        float[] x = new float[F.length() * 5000];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(11);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 200 - 100);
        }
        x[0] = Float.POSITIVE_INFINITY;
        x[1] = Float.NEGATIVE_INFINITY;
        x[2] = -0f;
        float[] got = exp(x);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToRawIntBits(got[i]), Float.floatToRawIntBits(VectorExp.exp(x[i])), "x=" + x[i]);
        }
    }

    @Test
    void edgesSaturateAsSoftmaxAndSiluNeed() {
        float[] x = new float[F.length()];
        java.util.Arrays.fill(x, 0f);
        x[0] = 0f;
        x[1] = 100f;                       // overflow → +inf
        x[2] = Float.POSITIVE_INFINITY;
        x[3] = -1000f;                     // underflow → a tiny normal, never negative, NaN or inf
        x[4 % x.length] = Float.NEGATIVE_INFINITY;
        float[] got = exp(x);
        assertEquals(1f, got[0], 0f);
        assertEquals(Float.POSITIVE_INFINITY, got[1]);
        assertEquals(Float.POSITIVE_INFINITY, got[2]);
        assertTrue(got[3] >= 0f && got[3] < 3e-38f, "exp(-1000) = " + got[3]);
        if (x.length > 4) {
            assertTrue(got[4] >= 0f && got[4] < 3e-38f, "exp(-inf) = " + got[4]);
        }
        x[0] = Float.NaN;
        assertTrue(Float.isNaN(exp(x)[0]), "NaN stays NaN");
    }
}
