package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.f32;
import static io.nemotron.core.backend.cuda.KernelSignature.i32;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;

import java.util.List;

/**
 * paged_attention.cu's kernels, one typed method each: the C arguments in order, then the count of rows (or prefill
 * tiles) that only sets the grid. Launch, as the .cu header states: the attention kernels run one 128-thread CTA per
 * row or tile (grid x) and per kv head and chunk of at most 16 of its query heads (grid y = kv heads × ceil(group / 16));
 * a split decode adds one CTA per context partition (grid z); the reduce runs one block per (row, head) with whole
 * warps covering head_dim.
 */
final class PagedAttentionKernels {
    private static final int THREADS = 128;   // the attention kernels' __launch_bounds__ (kThreads: 4 warps)

    static final KernelSignature DECODE_BF16 = KernelSignature.of("paged_attention_decode_bf16",
            ptr("out"), i32("out_stride"), ptr("q"), i32("q_stride"), ptr("k_cache"), ptr("v_cache"),
            ptr("block_tables"), i32("block_table_stride"), ptr("seq_of_row"), ptr("positions"), i32("num_heads"),
            i32("num_kv_heads"), i32("head_dim"), i32("block_size_log2"), f32("scale"), i32("partition_tokens"),
            ptr("part_out"), ptr("part_max"), ptr("part_sum"), i32("max_partitions"));
    static final KernelSignature REDUCE_BF16 = KernelSignature.of("paged_attention_reduce_bf16",
            ptr("out"), i32("out_stride"), ptr("part_out"), ptr("part_max"), ptr("part_sum"), ptr("positions"),
            i32("num_heads"), i32("head_dim"), i32("partition_tokens"), i32("max_partitions"));
    static final KernelSignature PREFILL_BF16 = KernelSignature.of("paged_attention_prefill_bf16",
            ptr("out"), i32("out_stride"), ptr("q"), i32("q_stride"), ptr("k_cache"), ptr("v_cache"),
            ptr("block_tables"), i32("block_table_stride"), ptr("seq_of_row"), ptr("positions"), ptr("tile_row_start"),
            ptr("tile_num_rows"), i32("num_heads"), i32("num_kv_heads"), i32("head_dim"), i32("block_size_log2"),
            f32("scale"));
    static final KernelSignature DECODE_FP8 = KernelSignature.of("paged_attention_decode_fp8",
            ptr("out"), i32("out_stride"), ptr("q"), i32("q_stride"), ptr("k_cache"), ptr("v_cache"),
            ptr("block_tables"), i32("block_table_stride"), ptr("seq_of_row"), ptr("positions"), i32("num_heads"),
            i32("num_kv_heads"), i32("head_dim"), i32("block_size_log2"), f32("scale"), i32("partition_tokens"),
            ptr("part_out"), ptr("part_max"), ptr("part_sum"), i32("max_partitions"), f32("k_scale"), f32("v_scale"));
    static final KernelSignature PREFILL_FP8 = KernelSignature.of("paged_attention_prefill_fp8",
            ptr("out"), i32("out_stride"), ptr("q"), i32("q_stride"), ptr("k_cache"), ptr("v_cache"),
            ptr("block_tables"), i32("block_table_stride"), ptr("seq_of_row"), ptr("positions"), ptr("tile_row_start"),
            ptr("tile_num_rows"), i32("num_heads"), i32("num_kv_heads"), i32("head_dim"), i32("block_size_log2"),
            f32("scale"), f32("k_scale"), f32("v_scale"));
    static final List<KernelSignature> SIGNATURES = List.of(DECODE_BF16, REDUCE_BF16, PREFILL_BF16, DECODE_FP8,
            PREFILL_FP8);

    private final KernelLauncher launcher;

    PagedAttentionKernels(CudaModule module) {
        this(module::launch);
    }

    PagedAttentionKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    /** CTAs per kv head: its group of query heads in chunks of the 16 query vectors one CTA holds. */
    private static int kvHeadBlocks(int numHeads, int numKvHeads) {
        int group = numHeads / numKvHeads;
        return numKvHeads * Math.ceilDiv(group, StepInputs.MAX_QUERY_VECTORS);
    }

    /**
     * One decode row per sequence. {@code partitionTokens} 0: unsplit, {@code out} written directly, the part_*
     * buffers unused (pass 0) and one CTA per (row, head chunk). {@code partitionTokens} P > 0: split-KV into
     * {@code maxPartitions} partitions of P tokens (a CTA each), whose partial results {@link #pagedAttentionReduceBf16}
     * then combines into {@code out}.
     */
    void pagedAttentionDecodeBf16(long out, int outStride, long q, int qStride, long kCache, long vCache,
                                  long blockTables, int blockTableStride, long seqOfRow, long positions, int numHeads,
                                  int numKvHeads, int headDim, int blockSizeLog2, float scale, int partitionTokens,
                                  long partOut, long partMax, long partSum, int maxPartitions, int rows) {
        int partitions = partitionTokens == 0 ? 1 : maxPartitions;
        launcher.launch(DECODE_BF16,
                new LaunchGeometry(rows, kvHeadBlocks(numHeads, numKvHeads), partitions, THREADS),
                new KernelArgs().ptr(out).i32(outStride).ptr(q).i32(qStride).ptr(kCache).ptr(vCache).ptr(blockTables)
                        .i32(blockTableStride).ptr(seqOfRow).ptr(positions).i32(numHeads).i32(numKvHeads)
                        .i32(headDim).i32(blockSizeLog2).f32(scale).i32(partitionTokens).ptr(partOut).ptr(partMax)
                        .ptr(partSum).i32(maxPartitions));
    }

    /** out = the split decode's partitions combined, for each of {@code rows} rows and {@code numHeads} heads. */
    void pagedAttentionReduceBf16(long out, int outStride, long partOut, long partMax, long partSum, long positions,
                                  int numHeads, int headDim, int partitionTokens, int maxPartitions, int rows) {
        launcher.launch(REDUCE_BF16, LaunchGeometry.of(rows, numHeads, LaunchGeometry.threadsCovering(headDim)),
                new KernelArgs().ptr(out).i32(outStride).ptr(partOut).ptr(partMax).ptr(partSum).ptr(positions)
                        .i32(numHeads).i32(headDim).i32(partitionTokens).i32(maxPartitions));
    }

    /**
     * Attention for {@code numTiles} tiles of rows, each tile rows of one sequence (StepInputs builds the list: at most
     * 16 query vectors a tile).
     */
    void pagedAttentionPrefillBf16(long out, int outStride, long q, int qStride, long kCache, long vCache,
                                   long blockTables, int blockTableStride, long seqOfRow, long positions,
                                   long tileRowStart, long tileNumRows, int numHeads, int numKvHeads, int headDim,
                                   int blockSizeLog2, float scale, int numTiles) {
        launcher.launch(PREFILL_BF16, LaunchGeometry.of(numTiles, kvHeadBlocks(numHeads, numKvHeads), THREADS),
                new KernelArgs().ptr(out).i32(outStride).ptr(q).i32(qStride).ptr(kCache).ptr(vCache).ptr(blockTables)
                        .i32(blockTableStride).ptr(seqOfRow).ptr(positions).ptr(tileRowStart).ptr(tileNumRows)
                        .i32(numHeads).i32(numKvHeads).i32(headDim).i32(blockSizeLog2).f32(scale));
    }

    /** As {@link #pagedAttentionDecodeBf16} over an FP8 cache, read as code · kScale / code · vScale. */
    void pagedAttentionDecodeFp8(long out, int outStride, long q, int qStride, long kCache, long vCache,
                                 long blockTables, int blockTableStride, long seqOfRow, long positions, int numHeads,
                                 int numKvHeads, int headDim, int blockSizeLog2, float scale, int partitionTokens,
                                 long partOut, long partMax, long partSum, int maxPartitions, float kScale,
                                 float vScale, int rows) {
        int partitions = partitionTokens == 0 ? 1 : maxPartitions;
        launcher.launch(DECODE_FP8,
                new LaunchGeometry(rows, kvHeadBlocks(numHeads, numKvHeads), partitions, THREADS),
                new KernelArgs().ptr(out).i32(outStride).ptr(q).i32(qStride).ptr(kCache).ptr(vCache).ptr(blockTables)
                        .i32(blockTableStride).ptr(seqOfRow).ptr(positions).i32(numHeads).i32(numKvHeads)
                        .i32(headDim).i32(blockSizeLog2).f32(scale).i32(partitionTokens).ptr(partOut).ptr(partMax)
                        .ptr(partSum).i32(maxPartitions).f32(kScale).f32(vScale));
    }

    /** As {@link #pagedAttentionPrefillBf16} over an FP8 cache, read as code · kScale / code · vScale. */
    void pagedAttentionPrefillFp8(long out, int outStride, long q, int qStride, long kCache, long vCache,
                                  long blockTables, int blockTableStride, long seqOfRow, long positions,
                                  long tileRowStart, long tileNumRows, int numHeads, int numKvHeads, int headDim,
                                  int blockSizeLog2, float scale, float kScale, float vScale, int numTiles) {
        launcher.launch(PREFILL_FP8, LaunchGeometry.of(numTiles, kvHeadBlocks(numHeads, numKvHeads), THREADS),
                new KernelArgs().ptr(out).i32(outStride).ptr(q).i32(qStride).ptr(kCache).ptr(vCache).ptr(blockTables)
                        .i32(blockTableStride).ptr(seqOfRow).ptr(positions).ptr(tileRowStart).ptr(tileNumRows)
                        .i32(numHeads).i32(numKvHeads).i32(headDim).i32(blockSizeLog2).f32(scale).f32(kScale)
                        .f32(vScale));
    }
}
