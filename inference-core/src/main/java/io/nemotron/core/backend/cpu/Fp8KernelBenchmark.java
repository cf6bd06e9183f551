package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;

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
            System.out.printf("read bandwidth, %d threads: %.2f GB/s; tokens per call: %d%n", threads, bandwidth,
                    tokens);
            for (int[] shape : SHAPES) {
                // the same timing as KernelBenchmark's, as calls per second
                long numel = (long) shape[0] * shape[1];
                double bf16 = KernelBenchmark.linearGBps(pool, DType.BF16, shape[0], shape[1], tokens) * 1e9
                        / (2 * numel);
                double fp8 = KernelBenchmark.linearGBps(pool, DType.F8_E4M3, shape[0], shape[1], tokens) * 1e9
                        / numel;
                System.out.printf("%5d x %-5d  bf16 %8.1f calls/s %6.2f GB/s (%4.1f%%)   fp8 %8.1f calls/s %6.2f GB/s"
                                + " (%4.1f%%)   fp8/bf16 %.2fx%n", shape[0], shape[1],
                        bf16, bf16 * numel * 2 / 1e9, 100 * bf16 * numel * 2 / 1e9 / bandwidth,
                        fp8, fp8 * numel / 1e9, 100 * fp8 * numel / 1e9 / bandwidth, fp8 / bf16);
            }
        }
    }
}
