package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.f32;
import static io.nemotron.core.backend.cuda.KernelSignature.i64;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;
import static io.nemotron.core.backend.cuda.LaunchGeometry.BF16_PACK;

import java.util.List;

/**
 * fp8.cu's kernels for the dequantizing FP8 linear path, one typed method each. Launch: blocks of 256 threads, each
 * thread one pack of 8 elements, covering the flat n elements. Their Java twins are {@link Fp8Twins}.
 */
final class Fp8Kernels {
    private static final int THREADS = 256;

    static final KernelSignature FP8_QUANTIZE_BF16 = KernelSignature.of("fp8_quantize_bf16",
            ptr("out"), ptr("x"), i64("n"), f32("input_scale"));
    static final KernelSignature FP8_DEQUANTIZE_BF16 = KernelSignature.of("fp8_dequantize_bf16",
            ptr("out"), ptr("w"), i64("n"));
    static final List<KernelSignature> SIGNATURES = List.of(FP8_QUANTIZE_BF16, FP8_DEQUANTIZE_BF16);

    private final KernelLauncher launcher;

    Fp8Kernels(CudaModule module) {
        this(module::launch);
    }

    Fp8Kernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    private static LaunchGeometry flat(long n) {
        return LaunchGeometry.of(LaunchGeometry.blocksCovering(n, (long) THREADS * BF16_PACK), THREADS);
    }

    /** out[i] = the E4M3 value of saturate_e4m3(x[i] / inputScale), as BF16, for i < n. */
    void fp8QuantizeBf16(long out, long x, long n, float inputScale) {
        launcher.launch(FP8_QUANTIZE_BF16, flat(n), new KernelArgs().ptr(out).ptr(x).i64(n).f32(inputScale));
    }

    /** out[i] = the value of E4M3 code w[i], as BF16 (exact), for i < n. */
    void fp8DequantizeBf16(long out, long w, long n) {
        launcher.launch(FP8_DEQUANTIZE_BF16, flat(n), new KernelArgs().ptr(out).ptr(w).i64(n));
    }
}
