package io.nemotron.core.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The Java Philox against the Random123 distribution's known-answer vectors (the same ones host_checks.cu checks). */
class PhiloxTest {

    @Test
    void knownAnswerVectors() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                Philox.philox4x32x10(0, 0, 0, 0, 0, 0));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                Philox.philox4x32x10(-1, -1, -1, -1, -1, -1));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                Philox.philox4x32x10(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    @Test
    void tokenUniformIsTheCounterLayoutOfPhiloxCuh() {
        // counter (index, 0, step low, step high), key (seed low, seed high); 52 bits: (w0 << 20 ^ w1 >>> 12)
        long seed = 0x299f31d0_a4093822L;
        long step = 0x03707344_13198a2eL;
        int[] w = Philox.philox4x32x10(0x243f6a88, 0, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0);
        long bits = (((w[0] & 0xffffffffL) << 20) ^ ((w[1] & 0xffffffffL) >>> 12)) & ((1L << 52) - 1);
        assertEquals((bits + 0.5) / 4503599627370496.0, Philox.tokenUniform(seed, step, 0x243f6a88));
    }

    @Test
    void uniformsAreStrictlyInsideTheUnitInterval() {
        for (int i = 0; i < 10_000; i++) {
            double u = Philox.tokenUniform(7, i / 100, i);
            assertTrue(u > 0 && u < 1, "u = " + u);
            assertTrue(Float.isFinite(Philox.gumbel(7, i / 100, i)));
        }
    }
}
