package io.nemotron.core.weights;

/**
 * The FP8 E4M3 "FN" format of NVIDIA ModelOpt checkpoints and of vLLM's FP8 paths (issue 17): 1 sign bit, 4 exponent
 * bits with bias 7, 3 mantissa bits; exponent 0 is subnormal ({@code m/8 · 2^-6}); no infinities; {@code 0x7F} and
 * {@code 0xFF} are NaN, so the largest finite value is {@code 0x7E} = 1.75 · 2^8 = 448.
 *
 * <p>Decoding is a 256-entry table (what a kernel's lookup or bit trick must reproduce). Encoding is vLLM's
 * {@code saturate_e4m3}: clamp to [-448, 448], then round to nearest, ties to the even code; NaN stays NaN. Every step
 * is exact in double (a float scaled by a power of two, then {@link Math#rint}), so a CUDA or Vector API twin can be
 * bit-identical to it.
 */
public final class Fp8E4m3 {
    /** The largest finite magnitude. */
    public static final float MAX = 448f;
    /** The code of NaN (positive sign); 0xFF is NaN too. */
    public static final byte NAN = 0x7F;

    private static final float[] DECODE = new float[256];

    static {
        for (int code = 0; code < 256; code++) {
            DECODE[code] = decodeBits(code);
        }
    }

    private Fp8E4m3() {}

    private static float decodeBits(int code) {
        int sign = code & 0x80;
        int exponent = (code >>> 3) & 0xF;
        int mantissa = code & 0x7;
        float magnitude;
        if (exponent == 0xF && mantissa == 0x7) {
            return Float.NaN;
        } else if (exponent == 0) {
            magnitude = Math.scalb((float) mantissa, -9);                 // m/8 · 2^-6
        } else {
            magnitude = Math.scalb((float) (8 + mantissa), exponent - 10); // (1 + m/8) · 2^(e-7)
        }
        return sign != 0 ? -magnitude : magnitude;
    }

    /** The value of an E4M3FN code (the low 8 bits of {@code code}). */
    public static float decode(byte code) {
        return DECODE[code & 0xFF];
    }

    /**
     * The decoding that vector kernels use instead of a table gather: the code's 7 exponent and mantissa bits placed at
     * float bit 20 form a float of the same mantissa with exponent bias 127 (a float subnormal for exponent 0), and
     * multiplying by 2^120 rebiases it to 7 exactly (a power-of-two scaling); the sign bit is moved to bit 31. Equal to
     * {@link #decode} for every code except the NaN codes (which it maps to ±480), so a kernel must not be fed them.
     */
    public static float decodeByBits(byte code) {
        int c = code & 0xFF;
        float magnitude = Float.intBitsToFloat((c & 0x7F) << 20) * 0x1p120f;
        return Float.intBitsToFloat(Float.floatToRawIntBits(magnitude) | ((c & 0x80) << 24));
    }

    /** A copy of the decoding table, indexed by the unsigned code (for kernels that gather from it). */
    public static float[] decodeTable() {
        return DECODE.clone();
    }

    /** {@code saturate_e4m3(x)}: clamp to ±448, round to nearest with ties to even; NaN gives {@link #NAN}. */
    public static byte encode(float x) {
        if (Float.isNaN(x)) {
            return NAN;
        }
        int sign = (Float.floatToRawIntBits(x) >>> 31) << 7;
        double a = Math.min(Math.abs((double) x), MAX);
        int code;
        if (a < 0x1p-6) {
            // subnormal range, quantum 2^-9; q == 8 is exactly the smallest normal, whose code is 8 too
            code = (int) Math.rint(a * 0x1p9);
        } else {
            int e = Math.getExponent(a);                           // 2^e <= a < 2^(e+1), e in [-6, 8]
            int q = (int) Math.rint(Math.scalb(a, 3 - e));         // in [8, 16]: 3 mantissa bits and the implicit one
            if (q == 16) {                                          // rounded up to the next power of two
                e++;
                q = 8;
            }
            code = ((e + 7) << 3) | (q - 8);
        }
        return (byte) (sign | code);
    }
}
