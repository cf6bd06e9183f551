package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Fp8E4m3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The FP8 kernels' Java twins against the definitions they stand for, computed here by brute force rather than through
 * the codec's arithmetic: a quantized activation is the finite E4M3 value nearest to x / scale (clamped to ±448),
 * ties going to the even code, and it is exact in BF16; a dequantized weight is exactly the code's value.
 */
class Fp8TwinsTest {
    /** The finite E4M3 values, by code (NaN codes 0x7F / 0xFF left out of the search). */
    private static double value(int code) {
        int e = (code >>> 3) & 0xF;
        int m = code & 7;
        double v = e == 0 ? m * 0x1p-9 : (8 + m) * Math.scalb(1.0, e - 10);
        return (code & 0x80) != 0 ? -v : v;
    }

    /** The code nearest to v (v within ±448), ties to the even code, over the 254 finite codes. */
    private static int nearest(double v) {
        int best = -1;
        double bestDiff = Double.POSITIVE_INFINITY;
        for (int code = 0; code < 256; code++) {
            if ((code & 0x7F) == 0x7F) {
                continue;
            }
            double d = Math.abs(value(code) - v);
            if (d < bestDiff || d == bestDiff && (code & 1) == 0 && value(code) != value(best)) {
                best = code;
                bestDiff = d;
            }
        }
        return best;
    }

    @ParameterizedTest
    @ValueSource(floats = {1f, 1.5f / 448f, 3.7f, 0x1p-20f, 300f})
    void quantizeIsTheNearestE4m3ValueOfTheClampedQuotient(float scale) {
        for (int bits = 0; bits < 1 << 16; bits++) {
            short x = (short) bits;
            float xf = DTypeCodec.bf16ToFloat(x);
            short got = Fp8Twins.quantizeBf16(x, scale);
            if (Float.isNaN(xf)) {
                assertTrue(Float.isNaN(DTypeCodec.bf16ToFloat(got)), "NaN stays NaN");
                continue;
            }
            double q = Math.max(-448, Math.min(448, (double) (xf / scale)));   // the kernel divides in float
            double expected = value(nearest(q));
            assertEquals(expected, DTypeCodec.bf16ToFloat(got), 0.0,
                    "x " + xf + " / " + scale + " = " + q);
            if (expected == 0) {
                // the sign of a zero result is the quotient's, as vLLM's saturate_e4m3 keeps it
                assertEquals(Math.copySign(1.0, xf / scale), Math.copySign(1.0, DTypeCodec.bf16ToFloat(got)),
                        "sign of zero for x " + xf);
            }
        }
    }

    @Test
    void dequantizeIsTheCodesExactValue() {
        for (int code = 0; code < 256; code++) {
            float got = DTypeCodec.bf16ToFloat(Fp8Twins.dequantizeBf16((byte) code));
            if ((code & 0x7F) == 0x7F) {
                assertTrue(Float.isNaN(got), "code 0x" + Integer.toHexString(code) + " is NaN");
            } else {
                assertEquals(value(code), got, 0.0, "code 0x" + Integer.toHexString(code));
            }
        }
    }

    @Test
    void kvCodesRoundTripToTheNearestScaledValue() {
        float scale = 0.037f;
        for (int bits = 0; bits < 1 << 16; bits += 7) {
            short x = (short) bits;
            float xf = DTypeCodec.bf16ToFloat(x);
            if (Float.isNaN(xf)) {
                continue;
            }
            byte code = Fp8Twins.kvEncode(x, scale);
            double q = Math.max(-448, Math.min(448, (double) (xf / scale)));
            assertEquals(value(nearest(q)), Fp8E4m3.decode(code), 0.0, "x " + xf);
            assertEquals((float) value(nearest(q)) * scale, Fp8Twins.kvDecode(code, scale), 0.0, "read back, x " + xf);
        }
    }
}
