package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Fp8E4m3;
import io.nemotron.core.weights.LinearScales;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The FP8 kernel against the BF16 one on the same shapes, side by side in one process: calls per second of a
 * Linear (the ratio is what FP8 buys a decode step) and weight GB/s against the streaming read bandwidth. A tuning
 * aid for {@link MatMulF8}; the end-to-end claim is {@code nemotron bench decode --dtypes bf16,fp8}. Run:
 * {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp inference-core/target/classes
 * io.nemotron.core.backend.cpu.Fp8KernelBenchmark [threads] [tokens]} (defaults 2 and 1).
 */
public final class Fp8KernelBenchmark {

    /** {rows, cols}: the 1B shape's down and gate/up projections, and one too large for any cache (256 MiB bf16). */
    private static final int[][] SHAPES = {{2048, 8192}, {8192, 2048}, {16384, 8192}};

    private Fp8KernelBenchmark() {}

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        try (CpuThreadPool pool = new CpuThreadPool(threads)) {
            double bandwidth = MemoryBandwidth.measureReadGBps(pool, 1L << 30, 10);
            System.out.printf("read bandwidth, %d threads: %.2f GB/s; tokens per call: %d%n", threads, bandwidth, tokens);
            for (int[] shape : SHAPES) {
                double bf16 = callsPerSecond(pool, DType.BF16, shape[0], shape[1], tokens);
                double fp8 = callsPerSecond(pool, DType.F8_E4M3, shape[0], shape[1], tokens);
                long numel = (long) shape[0] * shape[1];
                System.out.printf("%5d x %-5d  bf16 %8.1f calls/s %6.2f GB/s (%4.1f%%)   fp8 %8.1f calls/s %6.2f GB/s"
                                + " (%4.1f%%)   fp8/bf16 %.2fx%n", shape[0], shape[1],
                        bf16, bf16 * numel * 2 / 1e9, 100 * bf16 * numel * 2 / 1e9 / bandwidth,
                        fp8, fp8 * numel / 1e9, 100 * fp8 * numel / 1e9 / bandwidth, fp8 / bf16);
            }
        }
    }

    /** Best-of-10 calls per second over batches of calls, after a JIT warm-up. */
    static double callsPerSecond(CpuThreadPool pool, DType dtype, int rows, int cols, int tokens) {
        try (Arena arena = Arena.ofShared()) {
            long numel = (long) rows * cols;
            MemorySegment data = arena.allocate(numel * dtype.bytes(), 64);
            long state = 42;
            for (long i = 0; i < numel; i++) {
                state = state * 6364136223846793005L + 1442695040888963407L;
                float v = (int) (state >>> 40) * 0x1p-29f - 0.0156f;   // about [-0.03, 0.03]
                if (dtype == DType.BF16) {
                    data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                } else {
                    data.set(ValueLayout.JAVA_BYTE, i, Fp8E4m3.encode(v * (448 / 0.0156f)));
                }
            }
            Tensor weight = new Tensor("bench", dtype, new long[] {rows, cols}, data,
                    dtype == DType.F8_E4M3 ? new LinearScales(0.01f, 0.0156f / 448) : null);
            float[] in = new float[tokens * cols];
            for (int i = 0; i < in.length; i++) {
                in[i] = (i % 17) * 0.1f - 0.8f;
            }
            float[] out = new float[tokens * rows];
            PackedBF16 packed = dtype == DType.BF16 ? PackedBF16.of(weight) : null;
            PackedF8 packed8 = dtype == DType.F8_E4M3 ? PackedF8.of(weight) : null;
            Runnable call = packed != null ? () -> Linear.forward(pool, packed, in, out, tokens)
                    : () -> Linear.forward(pool, packed8, in, out, tokens);
            long start = System.nanoTime();
            while (System.nanoTime() - start < 1_500_000_000L) {
                call.run();
            }
            int calls = (int) Math.max(3, (256L << 20) / (numel * dtype.bytes()));
            double best = 0;
            for (int rep = 0; rep < 10; rep++) {
                long t0 = System.nanoTime();
                for (int c = 0; c < calls; c++) {
                    call.run();
                }
                best = Math.max(best, calls / ((System.nanoTime() - t0) / 1e9));
            }
            return best;
        }
    }
}
