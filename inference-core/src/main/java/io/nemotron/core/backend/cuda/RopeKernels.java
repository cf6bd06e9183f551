package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.i32;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;

import java.util.List;

/**
 * rope.cu's rotations, one typed method each: the C arguments in order, then the row count, which only sets the grid.
 * Launch: one block of 128 threads per row; the block computes the row's cos/sin once and rotates all its heads.
 */
final class RopeKernels {
    private static final int THREADS = 128;

    static final KernelSignature ROPE_BF16 = KernelSignature.of("rope_bf16",
            ptr("x"), i32("row_stride"), ptr("positions"), ptr("inv_freq"), i32("heads"), i32("head_dim"));
    static final KernelSignature ROPE_F32 = KernelSignature.of("rope_f32",
            ptr("x"), i32("row_stride"), ptr("positions"), ptr("inv_freq"), i32("heads"), i32("head_dim"));
    static final List<KernelSignature> SIGNATURES = List.of(ROPE_BF16, ROPE_F32);

    private final KernelLauncher launcher;

    RopeKernels(CudaModule module) {
        this(module::launch);
    }

    RopeKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    /** Rotates the first {@code heads} heads of each row of x in place, row r at position positions[r]. */
    void ropeBf16(long x, int rowStride, long positions, long invFreq, int heads, int headDim, int rows) {
        launcher.launch(ROPE_BF16, LaunchGeometry.of(rows, THREADS),
                new KernelArgs().ptr(x).i32(rowStride).ptr(positions).ptr(invFreq).i32(heads).i32(headDim));
    }

    void ropeF32(long x, int rowStride, long positions, long invFreq, int heads, int headDim, int rows) {
        launcher.launch(ROPE_F32, LaunchGeometry.of(rows, THREADS),
                new KernelArgs().ptr(x).i32(rowStride).ptr(positions).ptr(invFreq).i32(heads).i32(headDim));
    }
}
