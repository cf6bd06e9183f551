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
    private KvLayer kv;
    private StepBatch batch;
    private int heads;

    AttentionJob(int maxContext) {
        this.scores = ThreadLocal.withInitial(() -> new float[2 * maxContext]);   // two heads at once (GQA pairs)
    }

    void prepare(float[] q, float[] att, KvLayer kv, StepBatch batch, int heads) {
        this.q = q;
        this.att = att;
        this.kv = kv;
        this.batch = batch;
        this.heads = heads;
    }

    @Override
    public void run(int from, int to) {
        float[] s = scores.get();
        int width = heads * kv.headDim();
        for (int r = from; r < to; r++) {
            int seq = batch.seqOfRow[r];
            int[] table = batch.blockTables[seq];
            int len = batch.positions[r] + 1;
            // a sequence's first row of the step: its later (prefill) rows find the blocks cached
            if (r == 0 || batch.seqOfRow[r - 1] != seq) {
                kv.prefetch(table, len);
            }
            kv.attend(q, r * width, table, len, heads, att, r * width, s);
        }
    }
}
