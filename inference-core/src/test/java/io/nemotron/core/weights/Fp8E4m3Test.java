package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The E4M3FN codec against hand-checked codes and an independent brute force: every finite value listed from the
 * format's definition, the nearest one found by search (ties to the even mantissa), saturation at 448.
 */
class Fp8E4m3Test {

    @Test
    void handCheckedCodes() {
        assertEquals(448f, Fp8E4m3.decode((byte) 0x7E));       // e 15, m 6: 1.75 · 2^8
        assertEquals(-448f, Fp8E4m3.decode((byte) 0xFE));
        assertEquals(1f, Fp8E4m3.decode((byte) 0x38));         // e 7, m 0
        assertEquals(-1f, Fp8E4m3.decode((byte) 0xB8));
        assertEquals(1.125f, Fp8E4m3.decode((byte) 0x39));
        assertEquals(0x1p-6f, Fp8E4m3.decode((byte) 0x08));    // smallest normal
        assertEquals(0x1p-9f, Fp8E4m3.decode((byte) 0x01));    // smallest subnormal
        assertEquals(0.875f * 0x1p-6f, Fp8E4m3.decode((byte) 0x07));
        assertEquals(0f, Fp8E4m3.decode((byte) 0x00));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Fp8E4m3.decode((byte) 0x80)));
        assertTrue(Float.isNaN(Fp8E4m3.decode((byte) 0x7F)));
        assertTrue(Float.isNaN(Fp8E4m3.decode((byte) 0xFF)));
        assertEquals(240f, Fp8E4m3.decode((byte) 0x77));       // e 14, m 7: 1.875 · 2^7 (finite: only e 15, m 7 is NaN)
    }

    /** The 127 non-negative finite values from the definition, in code order (which is value order). */
    private static List<Double> positiveValues() {
        List<Double> values = new ArrayList<>();
        for (int e = 0; e < 16; e++) {
            for (int m = 0; m < 8; m++) {
                if (e == 15 && m == 7) {
                    continue;
                }
                values.add(e == 0 ? m / 8.0 * Math.pow(2, -6) : (1 + m / 8.0) * Math.pow(2, e - 7));
            }
        }
        return values;
    }

    @Test
    void everyCodeDecodesToItsValueAndEncodesBack() {
        List<Double> values = positiveValues();
        assertEquals(127, values.size());
        for (int code = 0; code < 127; code++) {
            assertEquals(values.get(code), (double) Fp8E4m3.decode((byte) code), "code " + code);
            assertEquals(-values.get(code), (double) Fp8E4m3.decode((byte) (0x80 | code)), "code " + (0x80 | code));
            assertEquals((byte) code, Fp8E4m3.encode(Fp8E4m3.decode((byte) code)));
            assertEquals((byte) (0x80 | code), Fp8E4m3.encode(Fp8E4m3.decode((byte) (0x80 | code))));
        }
    }

    /** Nearest by search: the code of the closest value, the even one (mantissa bit 0 clear) on a tie. */
    private static int nearest(double a, List<Double> values) {
        int best = 0;
        for (int code = 1; code < values.size(); code++) {
            double d = Math.abs(values.get(code) - a);
            double bestD = Math.abs(values.get(best) - a);
            if (d < bestD || (d == bestD && (code & 1) == 0)) {
                best = code;
            }
        }
        return best;
    }

    @Test
    void encodingIsNearestTiesToEvenAgainstABruteForce() {
        List<Double> values = positiveValues();
        SplittableRandom random = new SplittableRandom(17);
        for (int i = 0; i < 50_000; i++) {
            float x = (float) (Math.scalb(random.nextDouble(), random.nextInt(-12, 10)) * (random.nextBoolean() ? 1 : -1));
            int expected = nearest(Math.min(Math.abs(x), 448.0), values) | (x < 0 ? 0x80 : 0);
            assertEquals((byte) expected, Fp8E4m3.encode(x), "x = " + x);
        }
        // every midpoint between neighbours: the even code wins
        for (int code = 0; code < 126; code++) {
            float mid = (float) ((values.get(code) + values.get(code + 1)) / 2);   // exact: 5 significant bits at most
            int even = (code & 1) == 0 ? code : code + 1;
            assertEquals((byte) even, Fp8E4m3.encode(mid), "midpoint after code " + code);
            assertEquals((byte) code, Fp8E4m3.encode(Math.nextDown(mid)), "below the midpoint after code " + code);
            assertEquals((byte) (code + 1), Fp8E4m3.encode(Math.nextUp(mid)), "above the midpoint after code " + code);
        }
    }

    @Test
    void theBitTrickDecodingEqualsTheTableExceptForNaN() {
        for (int code = 0; code < 256; code++) {
            float byBits = Fp8E4m3.decodeByBits((byte) code);
            if ((code & 0x7F) == 0x7F) {
                assertEquals((code & 0x80) != 0 ? -480f : 480f, byBits, "NaN code " + code);
            } else {
                assertEquals(Float.floatToRawIntBits(Fp8E4m3.decode((byte) code)), Float.floatToRawIntBits(byBits),
                        "code " + code);
            }
        }
    }

    @Test
    void saturatesAndKeepsNaN() {
        assertEquals((byte) 0x7E, Fp8E4m3.encode(464f));   // the midpoint to the NaN pattern: clamped first
        assertEquals((byte) 0x7E, Fp8E4m3.encode(1e9f));
        assertEquals((byte) 0x7E, Fp8E4m3.encode(Float.POSITIVE_INFINITY));
        assertEquals((byte) 0xFE, Fp8E4m3.encode(-1e9f));
        assertEquals((byte) 0xFE, Fp8E4m3.encode(Float.NEGATIVE_INFINITY));
        assertEquals(Fp8E4m3.NAN, Fp8E4m3.encode(Float.NaN));
        assertEquals((byte) 0x00, Fp8E4m3.encode(0x1p-11f));   // below half the smallest subnormal: zero
        assertEquals((byte) 0x00, Fp8E4m3.encode(0x1p-10f));   // exactly half: ties to even (0)
        assertEquals((byte) 0x02, Fp8E4m3.encode(0x3p-10f));   // 1.5 quanta: ties to even (2)
        assertEquals((byte) 0x80, Fp8E4m3.encode(-0f));
    }
}
