package io.nemotron.core.backend.cuda;

import io.nemotron.core.backend.StepBatch;
import java.nio.IntBuffer;

/**
 * The fixed layout of what a decode graph reads per step, packed on the host (pure Java, tested without a GPU). A
 * captured graph holds device addresses and launch geometry, so its inputs live at fixed offsets sized for the largest
 * bucket, with a fixed block-table stride, and each step only rewrites their contents:
 * <pre>
 *   token ids   [capacity]
 *   positions   [capacity]
 *   slots       [capacity]            slot mapping of the K/V write
 *   seq of row  [capacity]            row r is sequence r (one row per sequence)
 *   tables      [capacity][stride]    block tables, row r's at r * stride
 * </pre>
 * Pad rows (from the step's rows up to its bucket) are harmless: token 0 at position 0 with slot -1, so the K/V write
 * skips them, and their attention reads block-table entries that some earlier step wrote (valid block ids) or the
 * zeros the buffer starts with; their activations are never read (the logits op takes only the step's logit rows).
 */
final class DecodeGraphInputs {
    final int capacity;   // rows of the largest bucket
    final int stride;     // block-table entries per row: the most blocks a sequence can hold
    final int blockSize;  // tokens per KV block: a row at position p reads blocks [0, p / blockSize]
    final int tokens = 0;
    final int positions;
    final int slots;
    final int seqOfRow;
    final int tables;
    final int length;     // ints in all

    DecodeGraphInputs(int capacity, int stride, int blockSize) {
        if (capacity < 1 || stride < 1 || blockSize < 1) {
            throw new IllegalArgumentException("decode graph inputs need >= 1 row and >= 1 table entry, got " + capacity
                    + " rows, stride " + stride + ", block size " + blockSize);
        }
        this.capacity = capacity;
        this.blockSize = blockSize;
        this.stride = stride;
        this.positions = capacity;
        this.slots = 2 * capacity;
        this.seqOfRow = 3 * capacity;
        this.tables = 4 * capacity;
        this.length = Math.addExact(tables, Math.multiplyExact(capacity, stride));
    }

    /**
     * Whether a graph can run {@code b}: at least one row, every sequence exactly one row (a decode row, or a prompt's
     * one-token chunk, which is the same computation), at most {@link #capacity} rows, and every row's blocks (those
     * below its position) within the stride.
     */
    boolean fits(StepBatch b) {
        if (b.rows < 1 || b.rows > capacity || b.numSeqs != b.rows) {
            return false;
        }
        for (int r = 0; r < b.rows; r++) {
            if (b.seqOfRow[r] != r || b.positions[r] < 0 || blocksOf(b, r) > stride) {
                return false;
            }
        }
        return true;
    }

    /** Blocks row r reads: those holding positions [0, position]. */
    private int blocksOf(StepBatch b, int r) {
        return b.positions[r] / blockSize + 1;
    }

    /** The seq-of-row section never changes (row r is sequence r): written once into fresh staging memory. */
    void writeConstants(IntBuffer out) {
        for (int r = 0; r < capacity; r++) {
            out.put(seqOfRow + r, r);
        }
    }

    /**
     * Packs {@code b} (which {@link #fits}) into {@code out} for a graph of {@code bucket} rows and returns how many ints
     * from the start must go down: the four row sections whole, then the block tables of the step's rows. Entries of
     * a table past the row's blocks keep older values: a row reads only the blocks up to its own position.
     */
    int pack(StepBatch b, int bucket, IntBuffer out) {
        if (bucket < b.rows || bucket > capacity) {
            throw new IllegalArgumentException("bucket " + bucket + " for " + b.rows + " rows (capacity " + capacity + ")");
        }
        int rows = b.rows;
        out.put(tokens, b.tokenIds, 0, rows);
        out.put(positions, b.positions, 0, rows);
        out.put(slots, b.slotMapping, 0, rows);
        for (int r = rows; r < bucket; r++) {
            out.put(tokens + r, 0);
            out.put(positions + r, 0);
            out.put(slots + r, -1);
        }
        for (int r = 0; r < rows; r++) {
            out.put(tables + r * stride, b.blockTables[r], 0, blocksOf(b, r));
        }
        return tables + rows * stride;
    }
}
