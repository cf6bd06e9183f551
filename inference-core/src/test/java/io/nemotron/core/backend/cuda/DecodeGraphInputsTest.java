package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.StepBatch;
import java.nio.IntBuffer;
import org.junit.jupiter.api.Test;

/** The decode graphs' fixed input layout, packed from hand-built batches and read back by hand-computed offsets. */
class DecodeGraphInputsTest {
    private static final int BLOCK = 4;

    /** Capacity 8 rows, tables of 5 blocks (20 tokens). */
    private final DecodeGraphInputs in = new DecodeGraphInputs(8, 5, BLOCK);

    @Test
    void sectionsSitAtFixedOffsetsSizedForTheLargestBucket() {
        assertEquals(0, in.tokens);
        assertEquals(8, in.positions);
        assertEquals(16, in.slots);
        assertEquals(24, in.seqOfRow);
        assertEquals(32, in.tables);
        assertEquals(32 + 8 * 5, in.length);
    }

    @Test
    void threeDecodeRowsPaddedToFour() {
        StepBatch b = new StepBatch(8, 8);
        int[][] tables = {{7, 3}, {1}, {2, 5, 6}};
        int[] lengths = {6, 2, 10};   // tokens so far; the decode row is the last one, at position length - 1
        for (int s = 0; s < 3; s++) {
            int[] tokens = new int[lengths[s]];
            tokens[lengths[s] - 1] = 100 + s;
            b.addSequence(tokens, lengths[s] - 1, 1, tables[s], BLOCK);
            b.markLogits(s);
        }
        assertTrue(in.fits(b));
        IntBuffer out = IntBuffer.allocate(in.length);
        for (int i = 0; i < in.length; i++) {
            out.put(i, 999);   // stale contents
        }
        in.writeConstants(out);
        int n = in.pack(b, 4, out);
        assertEquals(32 + 3 * 5, n, "the row sections, then the tables of the 3 rows");
        int[] ids = {100, 101, 102, 0};
        int[] positions = {5, 1, 9, 0};
        int[] slots = {3 * 4 + 1, 1 * 4 + 1, 6 * 4 + 1, -1};   // block of position p at p / 4, offset p % 4
        for (int r = 0; r < 4; r++) {
            assertEquals(ids[r], out.get(in.tokens + r), "id of row " + r);
            assertEquals(positions[r], out.get(in.positions + r), "position of row " + r);
            assertEquals(slots[r], out.get(in.slots + r), "slot of row " + r);
            assertEquals(r, out.get(in.seqOfRow + r), "sequence of row " + r);
        }
        // row r's table at 32 + 5r: the blocks up to its position; the rest keeps what was there
        assertEquals(7, out.get(32));
        assertEquals(3, out.get(33));
        assertEquals(999, out.get(34));
        assertEquals(1, out.get(37));
        assertEquals(999, out.get(38));
        assertEquals(2, out.get(42));
        assertEquals(5, out.get(43));
        assertEquals(6, out.get(44));
    }

    @Test
    void onlyDecodeStepsWithinCapacityAndStrideFit() {
        StepBatch prefill = new StepBatch(8, 8);
        prefill.addSequence(new int[] {1, 2, 3}, 0, 3, new int[] {0}, BLOCK);
        assertFalse(in.fits(prefill), "a sequence with 3 rows");

        StepBatch empty = new StepBatch(8, 8);
        assertFalse(in.fits(empty));

        StepBatch tooMany = new StepBatch(16, 16);
        for (int s = 0; s < 9; s++) {
            tooMany.addSequence(new int[] {1}, 0, 1, new int[] {s}, BLOCK);
        }
        assertFalse(in.fits(tooMany), "9 rows, capacity 8");

        StepBatch tooLong = new StepBatch(8, 8);
        tooLong.addSequence(new int[21], 20, 1, new int[6], BLOCK);   // position 20: a sixth block
        assertFalse(in.fits(tooLong), "6 blocks, stride 5");

        StepBatch longest = new StepBatch(8, 8);
        longest.addSequence(new int[20], 19, 1, new int[5], BLOCK);   // position 19: the fifth block
        assertTrue(in.fits(longest));
        assertThrows(IllegalArgumentException.class, () -> in.pack(longest, 9, IntBuffer.allocate(in.length)));
    }
}
