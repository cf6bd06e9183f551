package io.nemotron.core.backend.cuda;

/**
 * What one GPU (one tensor-parallel rank) holds, as {@link MemoryPlanner} laid it out; every rank holds the same.
 * All sizes in bytes.
 *
 * @param deviceBytes       the device's total memory
 * @param utilization       the fraction of it the server may use ({@code --gpu-memory-utilization})
 * @param budgetBytes       floor(deviceBytes · utilization): everything below must fit in it
 * @param weightBytes       this rank's weight shards ({@code ModelStats.perRankWeightBytes})
 * @param workspace         activation buffers and step scratch for the largest step
 * @param runtimeReserveBytes CUDA context, module, NCCL buffers: memory the process uses outside our allocations
 * @param blockSize         tokens per KV block
 * @param kvBytesPerBlock   K and V of every FULL-attention layer for one block, this rank's kv heads
 * @param kvBlocks          blocks in the pool
 * @param kvTokens          kvBlocks · blockSize: tokens of context the server can hold at once
 * @param unusedBytes       budget left after the pool (less than one block, unless the pool is capped)
 */
public record MemoryPlan(
        long deviceBytes,
        double utilization,
        long budgetBytes,
        long weightBytes,
        Workspace workspace,
        long runtimeReserveBytes,
        int blockSize,
        long kvBytesPerBlock,
        int kvBlocks,
        long kvTokens,
        long unusedBytes) {

    /** KV pool bytes: kvBlocks · kvBytesPerBlock. */
    public long kvBytes() {
        return kvBlocks * kvBytesPerBlock;
    }

    /**
     * The workspace, by purpose.
     *
     * @param activationBytes the {@code Backend.Buf} buffers for maxRows rows: X, XB, OUT [hidden]; Q, ATT [heads/tp ·
     *                        headDim]; K, V [widest kv heads per rank · headDim]; GATE, UP [widest intermediate / tp]
     * @param logitsBytes     FP32 logits of maxSeqs rows: this rank's vocab shard, and with tp > 1 the gathered vocab
     * @param splitKvBytes    split-KV decode partials for maxSeqs rows: heads/tp · partitions · (headDim + 2) floats
     * @param stepInputBytes  per row: token id, position, slot, sequence (int32 each); per sequence: its block table row
     *                        and the sampling arguments
     * @param gemmBytes       cuBLASLt workspace
     * @param fp8Bytes        FP8 weights only: the dequantizing path's scratch ({@code Fp8Linear}), a chunk of output
     *                        rows of the rank's largest projection as BF16 plus maxRows rows of its widest projection
     *                        input as BF16
     */
    public record Workspace(long activationBytes, long logitsBytes, long splitKvBytes, long stepInputBytes,
                            long gemmBytes, long fp8Bytes) {
        /** A workspace without FP8 scratch (BF16 weights). */
        public Workspace(long activationBytes, long logitsBytes, long splitKvBytes, long stepInputBytes,
                         long gemmBytes) {
            this(activationBytes, logitsBytes, splitKvBytes, stepInputBytes, gemmBytes, 0);
        }

        public long total() {
            return activationBytes + logitsBytes + splitKvBytes + stepInputBytes + gemmBytes + fp8Bytes;
        }
    }
}
