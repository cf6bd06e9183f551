package io.nemotron.core.backend;

/**
 * One engine step for the backend: the rows of several sequences flattened into one batch (vLLM's input batch).
 * Row r is token {@code tokenIds[r]} of sequence {@code seqOfRow[r]} at {@code positions[r]}; its K/V go to pool
 * slot {@code slotMapping[r]} = block·blockSize + offset; attention for it reads that sequence's
 * {@code blockTables[seq]} up to its own position (causal). Logits are computed for {@code logitRows} only.
 * Reused from step to step: {@link #clear()} then {@link #addSequence} per scheduled sequence.
 */
public final class StepBatch {
    public final int[] tokenIds;      // [maxRows]
    public final int[] positions;     // [maxRows]
    public final int[] slotMapping;   // [maxRows]
    public final int[] seqOfRow;      // [maxRows]
    public final int[][] blockTables; // [maxSeqs] -> the sequence's block ids (not copied)
    public final int[] logitRows;     // [maxSeqs]
    public int rows;
    public int numSeqs;
    public int numLogitRows;

    public StepBatch(int maxRows, int maxSeqs) {
        tokenIds = new int[maxRows];
        positions = new int[maxRows];
        slotMapping = new int[maxRows];
        seqOfRow = new int[maxRows];
        blockTables = new int[maxSeqs][];
        logitRows = new int[maxSeqs];
    }

    public void clear() {
        rows = 0;
        numSeqs = 0;
        numLogitRows = 0;
    }

    /**
     * Adds {@code n} tokens of one sequence, {@code tokens[start .. start+n)}, at positions start..start+n-1.
     *
     * @return the index of this sequence in the batch
     */
    public int addSequence(int[] tokens, int start, int n, int[] blockTable, int blockSize) {
        if (rows + n > tokenIds.length || numSeqs == blockTables.length) {
            throw new IllegalStateException("step batch full: " + rows + " + " + n + " rows, " + numSeqs + " sequences");
        }
        if ((long) (start + n + blockSize - 1) / blockSize > blockTable.length) {
            throw new IllegalStateException("block table of " + blockTable.length + " blocks cannot hold "
                    + (start + n) + " tokens");
        }
        int seq = numSeqs++;
        blockTables[seq] = blockTable;
        for (int i = 0; i < n; i++) {
            int pos = start + i;
            int r = rows++;
            tokenIds[r] = tokens[pos];
            positions[r] = pos;
            slotMapping[r] = blockTable[pos / blockSize] * blockSize + pos % blockSize;
            seqOfRow[r] = seq;
        }
        return seq;
    }

    /** Asks for the logits of row {@code row}; they come back in the order of these calls. */
    public void markLogits(int row) {
        logitRows[numLogitRows++] = row;
    }
}
