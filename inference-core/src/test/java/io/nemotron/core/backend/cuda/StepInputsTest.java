package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.StepBatch;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The packing of one step's kernel inputs (what the GPU reads), checked by hand without a GPU. */
class StepInputsTest {

    private static int[] section(StepInputs in, int offset, int n) {
        return Arrays.copyOfRange(in.host, offset, offset + n);
    }

    @Test
    void rowsPerTileFillsSixteenQueryVectors() {
        assertEquals(8, StepInputs.rowsPerTile(2));    // nemotron-nas-tiny block 0 / stories260K
        assertEquals(4, StepInputs.rowsPerTile(4));
        assertEquals(2, StepInputs.rowsPerTile(8));
        assertEquals(1, StepInputs.rowsPerTile(16));   // Ultra: group 16
        assertEquals(1, StepInputs.rowsPerTile(20));   // a group wider than a CTA: chunks of heads, one row
        assertEquals(5, StepInputs.rowsPerTile(3));    // 5 rows x 3 heads = 15 vectors
    }

    @Test
    void mixedPrefillAndDecodeStep() {
        StepBatch b = new StepBatch(32, 4);
        b.clear();
        int[] tokensA = new int[40];
        for (int i = 0; i < tokensA.length; i++) {
            tokensA[i] = 100 + i;
        }
        int[] tableA = {7, 3, 9};                    // blocks of 16: positions 0..47
        b.addSequence(tokensA, 20, 11, tableA, 16);   // prefill chunk: positions 20..30
        b.markLogits(10);
        int[] tokensB = {5, 6, 7, 8};
        b.addSequence(tokensB, 3, 1, new int[] {2}, 16);   // decode at position 3
        b.markLogits(11);
        StepInputs in = new StepInputs(new int[] {2, 8});
        in.pack(b);

        assertEquals(12, in.rows);
        assertFalse(in.decodeOnly);
        assertEquals(31, in.maxContext);
        int[] expectedTokens = {120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 8};
        assertArrayEquals(expectedTokens, section(in, in.tokens, 12));
        assertArrayEquals(new int[] {20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 3}, section(in, in.positions, 12));
        // slot = table[pos / 16] * 16 + pos % 16: positions 20..30 are in block 3 (table[1]), offsets 4..14
        assertArrayEquals(new int[] {52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 35}, section(in, in.slots, 12));
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, section(in, in.seqOfRow, 12));
        assertArrayEquals(new int[] {10, 11}, section(in, in.logitRows, 2));

        // group 2: 8 rows per tile -> rows 0..7, 8..10 (the chunk's rest), 11 (the decode row, its own sequence)
        int g2 = in.groupIndex(2);
        assertEquals(3, in.tileCount[g2]);
        assertArrayEquals(new int[] {0, 8, 11}, section(in, in.tileStarts[g2], 3));
        assertArrayEquals(new int[] {8, 3, 1}, section(in, in.tileRows[g2], 3));
        // group 8: 2 rows per tile -> 6 tiles for the chunk, then the decode row
        int g8 = in.groupIndex(8);
        assertEquals(7, in.tileCount[g8]);
        assertArrayEquals(new int[] {0, 2, 4, 6, 8, 10, 11}, section(in, in.tileStarts[g8], 7));
        assertArrayEquals(new int[] {2, 2, 2, 2, 2, 1, 1}, section(in, in.tileRows[g8], 7));

        // block tables padded to the longest (3 blocks); the padding is zeros
        assertEquals(3, in.tableStride);
        assertArrayEquals(new int[] {7, 3, 9, 2, 0, 0}, section(in, in.tables, 6));
        assertEquals(in.tables + 6, in.length);
        assertThrows(IllegalArgumentException.class, () -> in.groupIndex(4));
    }

    @Test
    void decodeOnlyStepAndReuseAcrossSteps() {
        StepBatch b = new StepBatch(8, 8);
        StepInputs in = new StepInputs(new int[] {4});
        // a big step first, then a smaller one: stale host data beyond the new length is never uploaded
        b.clear();
        b.addSequence(new int[20], 0, 8, new int[] {0}, 16);
        in.pack(b);
        assertFalse(in.decodeOnly);

        b.clear();
        b.addSequence(new int[] {1, 2, 3}, 2, 1, new int[] {4}, 16);
        b.markLogits(0);
        b.addSequence(new int[40], 39, 1, new int[] {5, 6, 1}, 16);
        b.markLogits(1);
        in.pack(b);
        assertTrue(in.decodeOnly);
        assertEquals(40, in.maxContext);
        assertArrayEquals(new int[] {2, 39}, section(in, in.positions, 2));
        assertArrayEquals(new int[] {4 * 16 + 2, 16 + 7}, section(in, in.slots, 2));
        assertEquals(2, in.tileCount[0]);
        assertArrayEquals(new int[] {4, 0, 0, 5, 6, 1}, section(in, in.tables, 6));
        assertEquals(in.tables + 6, in.length);
    }
}
