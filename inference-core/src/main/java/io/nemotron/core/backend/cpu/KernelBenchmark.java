package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Fp8E4m3;
import io.nemotron.core.weights.LinearScales;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Prints streaming bandwidth, the pool's hand-off latency and decode (tokens=1) Linear throughput as GB/s of
 * weights read and as a percentage of that bandwidth. The 2048x8192 shapes (32/64 MiB) may be partly served from
 * the last-level cache; the 512 MiB shapes cannot, so they are the honest comparison with DRAM bandwidth.
 * Bandwidth is measured before and after the kernels and the best is used, since shared machines are noisy. Run:
 * {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp inference-core/target/classes
 * io.nemotron.core.backend.cpu.KernelBenchmark [threads] [bandwidthMiB]} (defaults 2 and 2048).
 */
public final class KernelBenchmark {

    private static final int[][] SHAPES = {{2048, 8192}, {8192, 2048}};   // {rows, cols}
    private static final long LARGE_BYTES = 512L << 20;

    private KernelBenchmark() {}

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        long bandwidthBytes = (args.length > 1 ? Long.parseLong(args[1]) : 2048) << 20;
        try (CpuThreadPool pool = new CpuThreadPool(threads)) {
            double before = MemoryBandwidth.measureReadGBps(pool, bandwidthBytes, 10);
            System.out.printf("parallelFor hand-off, %d threads: %.2f us%n", threads, handOffMicros(pool));
            StringBuilder report = new StringBuilder();
            double[] results = new double[2 * (SHAPES.length + 1)];
            int k = 0;
            for (DType dtype : new DType[] {DType.BF16, DType.F32}) {
                for (int[] shape : SHAPES) {
                    results[k++] = linearGBps(pool, dtype, shape[0], shape[1]);
                }
                int cols = 8192;
                int rows = (int) (LARGE_BYTES / ((long) cols * dtype.bytes()));
                results[k++] = linearGBps(pool, dtype, rows, cols);
            }
            double after = MemoryBandwidth.measureReadGBps(pool, bandwidthBytes, 10);
            double gbps = Math.max(before, after);
            System.out.printf("read bandwidth, %d threads, %d MiB: %.2f GB/s (before %.2f, after %.2f)%n",
                    threads, bandwidthBytes >> 20, gbps, before, after);
            k = 0;
            for (DType dtype : new DType[] {DType.BF16, DType.F32}) {
                for (int s = 0; s <= SHAPES.length; s++) {
                    int rows = s < SHAPES.length ? SHAPES[s][0] : (int) (LARGE_BYTES / (8192L * dtype.bytes()));
                    int cols = s < SHAPES.length ? SHAPES[s][1] : 8192;
                    double linear = results[k++];
                    report.append(String.format("Linear %-4s %5d x %-5d tokens=1: %6.2f GB/s = %5.1f%% of bandwidth%n",
                            dtype, rows, cols, linear, 100 * linear / gbps));
                }
            }
            System.out.print(report);
        }
    }

    /** Mean time of an empty two-element parallelFor while the workers are spinning. */
    static double handOffMicros(CpuThreadPool pool) {
        RangeTask nothing = (from, to) -> {};
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            int calls = 100_000;
            long t0 = System.nanoTime();
            for (int c = 0; c < calls; c++) {
                pool.parallelFor(pool.threads(), nothing);
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e3 / calls);
        }
        return best;
    }

    /** Best-of-10 weight bytes per second over batches of calls, after a JIT warm-up. */
    static double linearGBps(CpuThreadPool pool, DType dtype, int rows, int cols) {
        return linearGBps(pool, dtype, rows, cols, 1);
    }

    /**
     * As above for {@code tokens} tokens a call; F8_E4M3 weights are codes of the same values over a per-tensor
     * scale, packed once like BF16's.
     */
    static double linearGBps(CpuThreadPool pool, DType dtype, int rows, int cols, int tokens) {
        try (Arena arena = Arena.ofShared()) {
            long numel = (long) rows * cols;
            MemorySegment data = arena.allocate(numel * dtype.bytes(), 64);
            long state = 42;
            for (long i = 0; i < numel; i++) {
                state = state * 6364136223846793005L + 1442695040888963407L;
                // small uniform values in about [-0.03, 0.03]: finite in every dtype
                float v = (int) (state >>> 40) * 0x1p-29f - 0.0156f;
                if (dtype == DType.F32) {
                    data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
                } else if (dtype == DType.BF16) {
                    data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                } else if (dtype == DType.F8_E4M3) {
                    data.set(ValueLayout.JAVA_BYTE, i, Fp8E4m3.encode(v * (448 / 0.0156f)));
                } else {
                    data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(v));
                }
            }
            Tensor weight = new Tensor("bench", dtype, new long[] {rows, cols}, data,
                    dtype == DType.F8_E4M3 ? new LinearScales(0.01f, 0.0156f / 448) : null);
            float[] in = new float[tokens * cols];
            for (int i = 0; i < in.length; i++) {
                in[i] = (i % 17) * 0.1f - 0.8f;
            }
            float[] out = new float[tokens * rows];
            // BF16 and F8 are timed as the backend runs them: packed once, outside the timing
            PackedBF16 packed = dtype == DType.BF16 ? PackedBF16.of(weight) : null;
            PackedF8 packed8 = dtype == DType.F8_E4M3 ? PackedF8.of(weight) : null;
            Runnable call = packed != null ? () -> Linear.forward(pool, packed, in, out, tokens)
                    : packed8 != null ? () -> Linear.forward(pool, packed8, in, out, tokens)
                    : () -> Linear.forward(pool, weight, in, out, tokens);
            long start = System.nanoTime();
            while (System.nanoTime() - start < 1_500_000_000L) {
                call.run();
            }
            long bytesPerCall = numel * dtype.bytes();
            int calls = (int) Math.max(3, (256L << 20) / bytesPerCall);
            double best = 0;
            for (int rep = 0; rep < 10; rep++) {
                long t0 = System.nanoTime();
                for (int c = 0; c < calls; c++) {
                    call.run();
                }
                best = Math.max(best, (double) calls * bytesPerCall / (System.nanoTime() - t0));
            }
            return best;
        }
    }
}
