package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.f32;
import static io.nemotron.core.backend.cuda.KernelSignature.i32;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;

import java.util.List;

/**
 * kv_cache.cu's writes into the paged pool (BF16 or FP8): the C arguments in order, then the row count, which only sets the grid.
 * Launch: one block of 128 threads per row (a row's kv heads are a few hundred elements at most).
 */
final class KvCacheKernels {
    private static final int THREADS = 128;

    static final KernelSignature KV_WRITE_BF16 = KernelSignature.of("kv_write_bf16",
            ptr("k_cache"), ptr("v_cache"), ptr("k"), ptr("v"), i32("kv_stride"), ptr("slot_mapping"), i32("kv_heads"),
            i32("head_dim"), i32("block_size_log2"));
    static final KernelSignature KV_WRITE_FP8 = KernelSignature.of("kv_write_fp8",
            ptr("k_cache"), ptr("v_cache"), ptr("k"), ptr("v"), i32("kv_stride"), ptr("slot_mapping"), i32("kv_heads"),
            i32("head_dim"), i32("block_size_log2"), f32("k_scale"), f32("v_scale"));
    static final List<KernelSignature> SIGNATURES = List.of(KV_WRITE_BF16, KV_WRITE_FP8);

    private final KernelLauncher launcher;

    KvCacheKernels(CudaModule module) {
        this(module::launch);
    }

    KvCacheKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    /** Row r's K and V heads into the pool at slotMapping[r]; a negative slot is skipped. */
    void kvWriteBf16(long kCache, long vCache, long k, long v, int kvStride, long slotMapping, int kvHeads, int headDim,
                     int blockSizeLog2, int rows) {
        launcher.launch(KV_WRITE_BF16, LaunchGeometry.of(rows, THREADS), new KernelArgs().ptr(kCache).ptr(vCache).ptr(k)
                .ptr(v).i32(kvStride).ptr(slotMapping).i32(kvHeads).i32(headDim).i32(blockSizeLog2));
    }

    /** As {@link #kvWriteBf16} into an FP8 cache: the E4M3 codes of K / kScale and V / vScale. */
    void kvWriteFp8(long kCache, long vCache, long k, long v, int kvStride, long slotMapping, int kvHeads, int headDim,
                    int blockSizeLog2, float kScale, float vScale, int rows) {
        launcher.launch(KV_WRITE_FP8, LaunchGeometry.of(rows, THREADS), new KernelArgs().ptr(kCache).ptr(vCache).ptr(k)
                .ptr(v).i32(kvStride).ptr(slotMapping).i32(kvHeads).i32(headDim).i32(blockSizeLog2).f32(kScale)
                .f32(vScale));
    }
}
