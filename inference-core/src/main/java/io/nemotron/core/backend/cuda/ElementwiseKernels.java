package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.i32;
import static io.nemotron.core.backend.cuda.KernelSignature.i64;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;
import static io.nemotron.core.backend.cuda.LaunchGeometry.BF16_PACK;
import static io.nemotron.core.backend.cuda.LaunchGeometry.F32_PACK;

import java.util.List;

/**
 * elementwise.cu's kernels, one typed method each: the C arguments in order, then the row count where it only sets
 * the grid. Launch: blocks of 256 threads, each thread one 16-byte pack; silu_mul has a column of blocks per row
 * (grid y = rows), add covers its flat n elements.
 */
final class ElementwiseKernels {
    private static final int THREADS = 256;

    static final KernelSignature SILU_MUL_BF16 = KernelSignature.of("silu_mul_bf16",
            ptr("out"), i32("out_stride"), ptr("gate"), ptr("up"), i32("in_stride"), i32("width"));
    static final KernelSignature SILU_MUL_F32 = KernelSignature.of("silu_mul_f32",
            ptr("out"), i32("out_stride"), ptr("gate"), ptr("up"), i32("in_stride"), i32("width"));
    static final KernelSignature ADD_BF16 = KernelSignature.of("add_bf16", ptr("acc"), ptr("delta"), i64("n"));
    static final KernelSignature ADD_F32 = KernelSignature.of("add_f32", ptr("acc"), ptr("delta"), i64("n"));
    static final List<KernelSignature> SIGNATURES = List.of(SILU_MUL_BF16, SILU_MUL_F32, ADD_BF16, ADD_F32);

    private final KernelLauncher launcher;

    ElementwiseKernels(CudaModule module) {
        this(module::launch);
    }

    ElementwiseKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    private static LaunchGeometry siluMul(int width, int rows, int pack) {
        return LaunchGeometry.of(LaunchGeometry.blocksCovering(width, (long) THREADS * pack), rows, THREADS);
    }

    private static LaunchGeometry add(long n, int pack) {
        return LaunchGeometry.of(LaunchGeometry.blocksCovering(n, (long) THREADS * pack), THREADS);
    }

    /** out[r, i] = silu(gate[r, i]) * up[r, i] for i < width, r < rows; out may alias gate. */
    void siluMulBf16(long out, int outStride, long gate, long up, int inStride, int width, int rows) {
        launcher.launch(SILU_MUL_BF16, siluMul(width, rows, BF16_PACK),
                new KernelArgs().ptr(out).i32(outStride).ptr(gate).ptr(up).i32(inStride).i32(width));
    }

    void siluMulF32(long out, int outStride, long gate, long up, int inStride, int width, int rows) {
        launcher.launch(SILU_MUL_F32, siluMul(width, rows, F32_PACK),
                new KernelArgs().ptr(out).i32(outStride).ptr(gate).ptr(up).i32(inStride).i32(width));
    }

    /** acc[i] += delta[i] for i < n. */
    void addBf16(long acc, long delta, long n) {
        launcher.launch(ADD_BF16, add(n, BF16_PACK), new KernelArgs().ptr(acc).ptr(delta).i64(n));
    }

    void addF32(long acc, long delta, long n) {
        launcher.launch(ADD_F32, add(n, F32_PACK), new KernelArgs().ptr(acc).ptr(delta).i64(n));
    }
}
