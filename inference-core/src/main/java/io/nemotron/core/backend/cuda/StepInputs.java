package io.nemotron.core.backend.cuda;

import io.nemotron.core.backend.StepBatch;
import java.util.Arrays;

/**
 * A step's kernel inputs packed into one int array, so that one host→device copy per step carries them all (STYLE
 * point 3: per step only ids, positions, slot mappings and block tables go down). Pure Java, tested without a GPU.
 *
 * <p>Sections, densely packed in this order (offsets in ints): token ids, positions, slot mapping, seq of row
 * ({@code rows} each), logit rows ({@code numLogitRows}), then for each distinct GQA group size of the model the
 * prefill tile list (tile row starts, then tile row counts), then the block tables {@code [numSeqs][tableStride]}
 * padded with zeros to the longest table (padding is never read: a row reads only blocks below its own position).
 */
final class StepInputs {
    /** Query vectors one attention CTA holds (paged_attention.cu's kMaxQueryVectors). */
    static final int MAX_QUERY_VECTORS = 16;

    private final int[] groups;    // distinct heads / kvHeads of the FULL layers
    int[] host = new int[0];
    int length;                    // ints used in host
    int rows;
    int numSeqs;
    int numLogitRows;
    int tokens;
    int positions;
    int slots;
    int seqOfRow;
    int logitRows;
    final int[] tileStarts;        // [group index] offset of the tile row starts
    final int[] tileRows;          // [group index] offset of the tile row counts
    final int[] tileCount;         // [group index]
    int tables;
    int tableStride;
    boolean decodeOnly;            // every sequence contributes exactly one row
    int maxContext;                // longest context of a row: max position + 1

    StepInputs(int[] groups) {
        this.groups = groups.clone();
        this.tileStarts = new int[groups.length];
        this.tileRows = new int[groups.length];
        this.tileCount = new int[groups.length];
    }

    /** Rows of one sequence per prefill tile for a GQA group: the CTA's 16 query vectors are rows × min(group, 16). */
    static int rowsPerTile(int group) {
        return Math.max(1, MAX_QUERY_VECTORS / Math.min(group, MAX_QUERY_VECTORS));
    }

    int groupIndex(int group) {
        for (int i = 0; i < groups.length; i++) {
            if (groups[i] == group) {
                return i;
            }
        }
        throw new IllegalArgumentException("no FULL layer has a GQA group of " + group + " (have " + Arrays.toString(groups) + ")");
    }

    void pack(StepBatch b) {
        rows = b.rows;
        numSeqs = b.numSeqs;
        numLogitRows = b.numLogitRows;
        tableStride = 1;
        for (int s = 0; s < numSeqs; s++) {
            tableStride = Math.max(tableStride, b.blockTables[s].length);
        }
        int tileCapacity = 2 * rows * groups.length;   // at most one tile per row
        int capacity = 4 * rows + numLogitRows + tileCapacity + numSeqs * tableStride;
        if (host.length < capacity) {
            host = new int[Math.max(capacity, host.length * 3 / 2)];
        }
        int at = 0;
        tokens = at;
        System.arraycopy(b.tokenIds, 0, host, at, rows);
        at += rows;
        positions = at;
        System.arraycopy(b.positions, 0, host, at, rows);
        at += rows;
        slots = at;
        System.arraycopy(b.slotMapping, 0, host, at, rows);
        at += rows;
        seqOfRow = at;
        System.arraycopy(b.seqOfRow, 0, host, at, rows);
        at += rows;
        logitRows = at;
        System.arraycopy(b.logitRows, 0, host, at, numLogitRows);
        at += numLogitRows;

        maxContext = 0;
        decodeOnly = true;
        for (int r = 0; r < rows; r++) {
            maxContext = Math.max(maxContext, b.positions[r] + 1);
            if (r > 0 && b.seqOfRow[r] == b.seqOfRow[r - 1]) {
                decodeOnly = false;   // StepBatch.addSequence puts a sequence's rows next to each other
            }
        }
        for (int g = 0; g < groups.length; g++) {
            // a tile: consecutive rows of ONE sequence, at most rowsPerTile of them; a decode row is a tile of one
            int per = rowsPerTile(groups[g]);
            int n = 0;
            int starts = at;
            for (int r = 0; r < rows; ) {
                int end = r + 1;
                while (end < rows && end - r < per && b.seqOfRow[end] == b.seqOfRow[r]) {
                    end++;
                }
                host[starts + n] = r;
                host[starts + rows + n] = end - r;   // counts live one section (rows ints) after the starts
                n++;
                r = end;
            }
            tileStarts[g] = starts;
            tileRows[g] = starts + rows;
            tileCount[g] = n;
            at += 2 * rows;
        }
        tables = at;
        for (int s = 0; s < numSeqs; s++) {
            int[] t = b.blockTables[s];
            System.arraycopy(t, 0, host, at, t.length);
            Arrays.fill(host, at + t.length, at + tableStride, 0);
            at += tableStride;
        }
        length = at;
    }
}
