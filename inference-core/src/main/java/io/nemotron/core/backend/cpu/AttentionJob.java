package io.nemotron.core.backend.cpu;

import io.nemotron.core.backend.StepBatch;

/**
 * The attention of one layer for every row of a step as a reusable {@link RangeTask} (no task object per call).
 * Rows are independent: each reads its own sequence's blocks up to its own position, touched first by
 * {@link KvPrefetch} where they fit in cache.
 */
final class AttentionJob implements RangeTask {
    private final ThreadLocal<float[]> scores;
    private float[] q;
    private float[] att;
    private float[] keys;
    private float[] values;
    private StepBatch batch;
    private int blockShift;
    private int heads;
    private int kvHeads;
    private int headDim;

    AttentionJob(int maxContext) {
        this.scores = ThreadLocal.withInitial(() -> new float[2 * maxContext]);   // two heads at once (GQA pairs)
    }

    void prepare(float[] q, float[] att, float[] keys, float[] values, StepBatch batch, int blockSize, int heads,
                 int kvHeads, int headDim) {
        this.q = q;
        this.att = att;
        this.keys = keys;
        this.values = values;
        this.batch = batch;
        this.blockShift = Integer.numberOfTrailingZeros(blockSize);
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
    }

    @Override
    public void run(int from, int to) {
        float[] s = scores.get();
        int width = heads * headDim;
        int kvStride = kvHeads * headDim;
        for (int r = from; r < to; r++) {
            int seq = batch.seqOfRow[r];
            int[] table = batch.blockTables[seq];
            int len = batch.positions[r] + 1;
            // a sequence's first row of the step: its later (prefill) rows find the blocks cached
            if ((r == 0 || batch.seqOfRow[r - 1] != seq) && KvPrefetch.fits(len, kvStride)) {
                KvPrefetch.touch(keys, values, table, blockShift, len, kvStride);
            }
            Attention.decodePaged(q, r * width, keys, values, table, blockShift, len, heads, kvHeads, headDim, att,
                    r * width, s);
        }
    }
}
