package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.LinearScales;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Random weight tensors for the parity tests, with the exact value of every element as a double decoded by
 * the test's own rules (not by the kernels' code), so that references are independent of what they check.
 */
final class TestTensors {

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The scales {@link #random} attaches to an F8_E4M3 tensor. */
    static final float F8_INPUT_SCALE = 0.05f;
    static final float F8_WEIGHT_SCALE = 0.01f;

    /** A tensor and the value of each of its elements, row-major (for F8_E4M3: the codes' values, unscaled). */
    record Weights(Tensor tensor, double[] values) {}

    private TestTensors() {}

    /**
     * rows x cols weights of roughly unit scale. The segment lives in a shared arena that is never closed
     * (test-sized), at a 2-byte offset so that no alignment is assumed.
     */
    static Weights random(DType dtype, int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int numel = rows * cols;
        MemorySegment whole = Arena.ofShared().allocate((long) numel * dtype.bytes() + 2, 8);
        MemorySegment data = whole.asSlice(2, (long) numel * dtype.bytes());
        double[] values = new double[numel];
        for (int i = 0; i < numel; i++) {
            switch (dtype) {
                case F32 -> {
                    float v = (float) random.nextGaussian();
                    data.set(INT, 4L * i, Float.floatToRawIntBits(v));
                    values[i] = v;
                }
                case BF16 -> {
                    // sign, exponent near 127 (values ~ 2^-4 .. 2^3), random mantissa
                    int bits = (random.nextInt(2) << 15) | ((123 + random.nextInt(8)) << 7) | random.nextInt(128);
                    data.set(SHORT, 2L * i, (short) bits);
                    values[i] = Float.intBitsToFloat(bits << 16);
                }
                case F16 -> {
                    // include subnormals (exponent field 0) as well as normals around 1
                    int exponent = random.nextInt(10) == 0 ? 0 : 11 + random.nextInt(8);
                    int bits = (random.nextInt(2) << 15) | (exponent << 10) | random.nextInt(1024);
                    data.set(SHORT, 2L * i, (short) bits);
                    values[i] = halfToDouble(bits);
                }
                case F8_E4M3 -> {
                    int code = randomE4m3Code(random);
                    data.set(ValueLayout.JAVA_BYTE, i, (byte) code);
                    values[i] = e4m3ToDouble(code);
                }
            }
        }
        // an FP8 linear carries its ModelOpt scales: activations of about unit scale quantize to |x8| <= ~100
        LinearScales scales = dtype == DType.F8_E4M3 ? new LinearScales(F8_INPUT_SCALE, F8_WEIGHT_SCALE) : null;
        return new Weights(new Tensor("test", dtype, new long[] {rows, cols}, data, scales), values);
    }

    /** Any E4M3 code but the two NaNs (0x7F, 0xFF): zeros, subnormals, normals up to ±448. */
    static int randomE4m3Code(SplittableRandom random) {
        int code = random.nextInt(254);
        return code < 0x7F ? code : code + 1;
    }

    /** E4M3FN by its definition (bias 7, exponent 0 subnormal); the NaN codes are not asked for. */
    static double e4m3ToDouble(int code) {
        int sign = (code >> 7) & 1;
        int exponent = (code >> 3) & 0xF;
        int mantissa = code & 0x7;
        double magnitude = exponent == 0
                ? Math.scalb(mantissa / 8.0, -6)
                : Math.scalb(1 + mantissa / 8.0, exponent - 7);
        return sign == 1 ? -magnitude : magnitude;
    }

    /** IEEE binary16 by its definition; NaN and infinities are not produced by {@link #random}. */
    static double halfToDouble(int bits) {
        int sign = (bits >> 15) & 1;
        int exponent = (bits >> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        double magnitude = exponent == 0
                ? Math.scalb(mantissa / 1024.0, -14)
                : Math.scalb(1 + mantissa / 1024.0, exponent - 15);
        return sign == 1 ? -magnitude : magnitude;
    }

    static float[] gaussian(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }
}
