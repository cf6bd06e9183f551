package io.nemotron.core.testing;

import java.util.SplittableRandom;

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

        /**
         * x (a stored BF16 value) and scale (an F32 tensor) are floats, so their float64 quotient rounded to float is
         * the correctly rounded FP32 quotient (53 >= 2 · 24 + 2 bits: the double rounding is innocuous).
         */
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
     * A model of the FP32 arithmetic inside the CUDA kernels, for bounding what it does to the logits: as {@link
     * Bf16Activations}, but each value is multiplied by {@code 1 + δ}, δ uniform in ±{@code epsilon} (seeded), before it
     * is stored. Where a float64 value lies within that distance of a BF16 midpoint the stored value moves by one BF16
     * ulp, as the device's FP32 value may, and from there on through every later op (an FP8 input may then cross an
     * E4M3 midpoint too). Exact values are not jittered (a residual add of two BF16 values, a product of two, the
     * second RMSNorm rounding: the device computes them exactly as well, and breaks their BF16 ties to even as the
     * oracle does), nor is the FP8 quantizer's division, which the oracle does exactly as the device's FP32 one.
     */
    final class Fp32Noise implements Precision {
        private final int tensorParallel;
        private final double epsilon;
        private final SplittableRandom random;

        public Fp32Noise(int tensorParallel, double epsilon, long seed) {
            if (tensorParallel < 1 || !(epsilon >= 0 && epsilon < 0x1p-8)) {
                throw new IllegalArgumentException("tensorParallel must be >= 1 and epsilon in [0, 2^-8), got "
                        + tensorParallel + ", " + epsilon);
            }
            this.tensorParallel = tensorParallel;
            this.epsilon = epsilon;
            this.random = new SplittableRandom(seed);
        }

        private long stores;
        private long flips;

        @Override
        public double store(double x) {
            // a float64 result that is a float was exact (an inexact one lands on a float once in 2^29), and so is the
            // kernel's FP32 result of the same exact operation (a residual add of two BF16 values, a product of two):
            // jittering it would break the exact BF16 ties the device breaks to even as the oracle does
            double stored = x == (float) x ? bf16(x) : bf16(x * (1 + epsilon * (2 * random.nextDouble() - 1)));
            stores++;
            flips += stored == bf16(x) ? 0 : 1;
            return stored;
        }

        /** Values stored so far. */
        public long stores() {
            return stores;
        }

        /** Of those, how many the jitter moved to the other BF16 neighbour. */
        public long flips() {
            return flips;
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
