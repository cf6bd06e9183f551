package io.nemotron.core.model;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;

/**
 * One sequence run through a {@link ForwardPass} on a private KV pool whose blocks are its table in order: the
 * CLI's {@code generate}, the reference tests and the decode benchmark use it; the server's engine batches many
 * sequences over one shared pool instead. Positions advance by the rows of each call.
 */
public final class SingleSequence {
    private static final int BLOCK_SIZE = 16;

    private final ForwardPass model;
    private final KvPool kv;
    private final int[] blockTable;
    private final StepBatch batch;
    private final int capacity;
    private final int[] history;   // [capacity] token at each position, as the batch reads them
    private int length;

    public SingleSequence(ForwardPass model, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.model = model;
        this.capacity = capacity;
        int blocks = (capacity + BLOCK_SIZE - 1) / BLOCK_SIZE;
        this.kv = model.newKvPool(blocks, BLOCK_SIZE);
        this.blockTable = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            blockTable[i] = i;
        }
        this.batch = new StepBatch(model.maxRows(), 1);
        this.history = new int[capacity];
    }

    public int capacity() {
        return capacity;
    }

    /** Tokens already in the cache (the next token's position). */
    public int length() {
        return length;
    }

    /** Rewinds (or keeps) the cache to its first {@code length} tokens. */
    public void setLength(int length) {
        if (length < 0 || length > this.length) {
            throw new IllegalArgumentException("length " + length + " outside [0, " + this.length + "]");
        }
        this.length = length;
    }

    /** Appends tokens[0..rows) and writes the logits of the last one (when logits is non-null). */
    public void forward(int[] tokens, int rows, float[] logits) {
        forward(tokens, rows, logits, rows - 1);
    }

    /** As above, with the logits taken at row {@code logitsRow} of this call. */
    public void forward(int[] tokens, int rows, float[] logits, int logitsRow) {
        prepare(tokens, rows, logits != null ? logitsRow : -1);
        model.forward(batch, kv, logits);
        length += rows;
    }

    /**
     * Appends tokens[0..rows) and samples the token after the last one with the model's sampling op, under the one row
     * of {@code sampling}; the id lands in {@code out.ids[0]}.
     */
    public void forward(int[] tokens, int rows, SamplingBatch sampling, SampledTokens out) {
        prepare(tokens, rows, rows - 1);
        model.forward(batch, kv, sampling, out);
        length += rows;
    }

    private void prepare(int[] tokens, int rows, int logitsRow) {
        if (length + rows > capacity) {
            throw new IllegalArgumentException("sequence of " + (length + rows) + " tokens exceeds the KV capacity "
                    + capacity);
        }
        if (rows > model.maxRows()) {
            throw new IllegalArgumentException(rows + " rows exceed the backend's " + model.maxRows());
        }
        batch.clear();
        // the batch reads tokens at their positions: place this call's tokens at [length, length+rows)
        int[] positioned = positioned(tokens, rows);
        batch.addSequence(positioned, length, rows, blockTable, BLOCK_SIZE);
        if (logitsRow >= 0) {
            batch.markLogits(logitsRow);
        }
    }

    private int[] positioned(int[] tokens, int rows) {
        System.arraycopy(tokens, 0, history, length, rows);
        return history;
    }
}
