package io.nemotron.core.testing;

/**
 * Where {@link NasFloat64Reference} rounds: the arithmetic stays float64 throughout; a precision only says what a value
 * becomes when a backend would store it (an activation buffer, a row-parallel partial sum, an FP8 code).
 *
 * <ul>
 * <li>{@link #FLOAT64}: nothing is rounded but the FP8 quantization itself, {@code E4M3(x / scale)} of the float64
 * {@code x} (the spec's numerics on exact activations; what the CPU backend, with FP32 activations, is held to).</li>
 * <li>{@link Bf16Activations}: every stored activation is rounded to BF16, nearest even, from its FP32 value (the CUDA
 * backend's buffers; see {@link NasFloat64Reference} for the list of points with their kernels), the FP8 quantizer
 * divides in FP32 ({@code E4M3(fl32(x / scale))}, as fp8.cu and kv_cache.cu do), and a row-parallel linear over
 * {@code tensorParallel} ranks rounds each rank's partial sum to BF16 before the BF16 all-reduce sums them and rounds
 * again (nccl.cpp: BF16 sums in float, rounded once).</li>
 * </ul>
 */
public sealed interface Precision {
    Precision FLOAT64 = new Float64();

    /** An activation as a backend stores it. */
    double store(double x);

    /** The E4M3 value (not multiplied back) of {@code x / scale}: an FP8 linear's input or an FP8 KV cache entry. */
    double fp8(double x, double scale);

    /** Ranks whose partial sums a row-parallel linear (o_proj, down_proj) adds up, each stored before the sum. */
    int rowParallelParts();

    /** The spec's numerics on float64 activations. */
    record Float64() implements Precision {
        @Override
        public double store(double x) {
            return x;
        }

        @Override
        public double fp8(double x, double scale) {
            return NasFloat64Reference.e4m3(x / scale);
        }

        @Override
        public int rowParallelParts() {
            return 1;
        }
    }

    /** BF16 activation buffers, FP32 quantizer divisions, BF16 partial sums over {@code tensorParallel} ranks. */
    record Bf16Activations(int tensorParallel) implements Precision {
        public Bf16Activations {
            if (tensorParallel < 1) {
                throw new IllegalArgumentException("tensorParallel must be >= 1, got " + tensorParallel);
            }
        }

        @Override
        public double store(double x) {
            return bf16(x);
        }

        @Override
        public double fp8(double x, double scale) {
            return NasFloat64Reference.e4m3((float) (x / scale));
        }

        @Override
        public int rowParallelParts() {
            return tensorParallel;
        }
    }

    /**
     * {@code x} rounded to FP32 (nearest even) and then to BF16 (nearest even on the 16 dropped bits), as a kernel's
     * FP32 result is stored in a BF16 buffer ({@code __float2bfloat16_rn}). Written from the bit layout here, not taken
     * from the project's codecs, so the oracle shares no rounding code with the backends; NaN stays NaN, and a value
     * past the largest BF16 rounds to infinity as the device does.
     */
    static double bf16(double x) {
        float f = (float) x;
        if (Float.isNaN(f)) {
            return f;
        }
        int bits = Float.floatToRawIntBits(f);
        int lower = bits & 0xFFFF;
        int upper = bits >>> 16;
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) {
            upper++;   // carries into the exponent where the mantissa overflows: the next binade, or infinity
        }
        return Float.intBitsToFloat(upper << 16);
    }
}
