package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.f32;
import static io.nemotron.core.backend.cuda.KernelSignature.i32;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;
import static io.nemotron.core.backend.cuda.LaunchGeometry.BF16_PACK;
import static io.nemotron.core.backend.cuda.LaunchGeometry.F32_PACK;

import java.util.List;

/**
 * rmsnorm.cu's kernels, one typed method each: the kernel's C arguments in order, then the row count, which only sets
 * the grid. Launch: one block per row (a row, 16384 wide for Ultra, is far too wide for a warp, and rows are
 * independent), with whole warps enough for one 16-byte pack of the row per thread, at most 1024.
 */
final class RmsNormKernels {
    static final KernelSignature RMSNORM_BF16 = KernelSignature.of("rmsnorm_bf16",
            ptr("out"), ptr("x"), ptr("weight"), i32("hidden"), f32("eps"));
    static final KernelSignature RMSNORM_F32 = KernelSignature.of("rmsnorm_f32",
            ptr("out"), ptr("x"), ptr("weight"), i32("hidden"), f32("eps"));
    static final KernelSignature FUSED_ADD_RMSNORM_BF16 = KernelSignature.of("fused_add_rmsnorm_bf16",
            ptr("out"), ptr("residual"), ptr("x"), ptr("weight"), i32("hidden"), f32("eps"));
    static final KernelSignature FUSED_ADD_RMSNORM_F32 = KernelSignature.of("fused_add_rmsnorm_f32",
            ptr("out"), ptr("residual"), ptr("x"), ptr("weight"), i32("hidden"), f32("eps"));
    static final KernelSignature RMSNORM_ROWS_BF16 = KernelSignature.of("rmsnorm_rows_bf16",
            ptr("out"), ptr("x"), ptr("weight"), ptr("row_index"), i32("hidden"), f32("eps"));
    static final KernelSignature RMSNORM_ROWS_F32 = KernelSignature.of("rmsnorm_rows_f32",
            ptr("out"), ptr("x"), ptr("weight"), ptr("row_index"), i32("hidden"), f32("eps"));
    static final List<KernelSignature> SIGNATURES = List.of(RMSNORM_BF16, RMSNORM_F32, FUSED_ADD_RMSNORM_BF16,
            FUSED_ADD_RMSNORM_F32, RMSNORM_ROWS_BF16, RMSNORM_ROWS_F32);

    private final KernelLauncher launcher;

    RmsNormKernels(CudaModule module) {
        this(module::launch);
    }

    RmsNormKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    private static LaunchGeometry perRow(int rows, int hidden, int pack) {
        return LaunchGeometry.of(rows, LaunchGeometry.threadsCovering(hidden / pack));
    }

    /** out[r] = rmsnorm(x[r]) * weight for each of {@code rows} rows; out may alias x. */
    void rmsnormBf16(long out, long x, long weight, int hidden, float eps, int rows) {
        launcher.launch(RMSNORM_BF16, perRow(rows, hidden, BF16_PACK),
                new KernelArgs().ptr(out).ptr(x).ptr(weight).i32(hidden).f32(eps));
    }

    void rmsnormF32(long out, long x, long weight, int hidden, float eps, int rows) {
        launcher.launch(RMSNORM_F32, perRow(rows, hidden, F32_PACK),
                new KernelArgs().ptr(out).ptr(x).ptr(weight).i32(hidden).f32(eps));
    }

    /** residual += x, then out = rmsnorm(residual) * weight, row by row. */
    void fusedAddRmsnormBf16(long out, long residual, long x, long weight, int hidden, float eps, int rows) {
        launcher.launch(FUSED_ADD_RMSNORM_BF16, perRow(rows, hidden, BF16_PACK),
                new KernelArgs().ptr(out).ptr(residual).ptr(x).ptr(weight).i32(hidden).f32(eps));
    }

    void fusedAddRmsnormF32(long out, long residual, long x, long weight, int hidden, float eps, int rows) {
        launcher.launch(FUSED_ADD_RMSNORM_F32, perRow(rows, hidden, F32_PACK),
                new KernelArgs().ptr(out).ptr(residual).ptr(x).ptr(weight).i32(hidden).f32(eps));
    }

    /** out[b] = rmsnorm(x[rowIndex[b]]) * weight for b < {@code outRows}: only the rows that sample, packed densely. */
    void rmsnormRowsBf16(long out, long x, long weight, long rowIndex, int hidden, float eps, int outRows) {
        launcher.launch(RMSNORM_ROWS_BF16, perRow(outRows, hidden, BF16_PACK),
                new KernelArgs().ptr(out).ptr(x).ptr(weight).ptr(rowIndex).i32(hidden).f32(eps));
    }

    void rmsnormRowsF32(long out, long x, long weight, long rowIndex, int hidden, float eps, int outRows) {
        launcher.launch(RMSNORM_ROWS_F32, perRow(outRows, hidden, F32_PACK),
                new KernelArgs().ptr(out).ptr(x).ptr(weight).ptr(rowIndex).i32(hidden).f32(eps));
    }
}
