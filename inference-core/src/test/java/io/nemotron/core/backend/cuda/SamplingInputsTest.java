package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.sampling.SamplingBatch;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The sampling kernels' argument block, packed by hand for a two-row chunk of a three-row batch. */
class SamplingInputsTest {

    @Test
    void aChunkPacksItsRowsAndRebasesThePenaltyIds() {
        SamplingBatch s = new SamplingBatch(4);
        s.clear();
        s.addRow(0f, 0, 1f, 0f, 1L, 0L, SamplingBatch.NO_LOGPROBS);        // row 0: greedy, penalty ids 5, 6
        s.setPenalties(1.5f, 0f, 0f);
        s.addPenaltyId(5, 0);
        s.addPenaltyId(6, 2);
        s.addRow(0.7f, 40, 0.9f, 0.05f, 0x1_0000_0002L, 3L, 2);            // row 1: one penalty id 9
        s.setPenalties(1f, 0.5f, 0.25f);
        s.addPenaltyId(9, 1);
        s.addRow(1f, 0, 1f, 0f, -1L, 1L << 33, SamplingBatch.NO_LOGPROBS); // row 2: no penalties

        SamplingInputs in = new SamplingInputs();
        in.pack(s, 1, 2);
        // sections: seeds 0..3, steps 4..7, then 7 per-row floats/ints of 2 each (8..21), offsets 22..24,
        // ids 25, generated 26, out 27..28
        assertEquals(0, in.seeds);
        assertEquals(4, in.steps);
        assertEquals(8, in.temperature);
        assertEquals(22, in.penaltyOffsets);
        assertEquals(25, in.penaltyIds);
        assertEquals(26, in.penaltyGenerated);
        assertEquals(27, in.outIds);
        assertEquals(29, in.length);
        int[] h = Arrays.copyOf(in.host, in.length);
        assertArrayEquals(new int[] {2, 1, -1, -1}, Arrays.copyOfRange(h, 0, 4));       // little-endian uint64 seeds
        assertArrayEquals(new int[] {3, 0, 0, 2}, Arrays.copyOfRange(h, 4, 8));         // steps 3 and 2^33
        assertEquals(Float.floatToRawIntBits(0.7f), h[in.temperature]);
        assertEquals(40, h[in.topK]);
        assertEquals(0, h[in.topK + 1]);
        assertEquals(Float.floatToRawIntBits(0.05f), h[in.minP]);
        assertEquals(Float.floatToRawIntBits(0.5f), h[in.presence]);
        assertEquals(Float.floatToRawIntBits(1f), h[in.repetition + 1]);
        assertArrayEquals(new int[] {0, 1, 1}, Arrays.copyOfRange(h, 22, 25));          // rebased from 2
        assertEquals(9, h[25]);
        assertEquals(1, h[26]);
        assertTrue(in.anyPenalties);

        in.pack(s, 2, 1);
        assertFalse(in.anyPenalties);
        assertEquals(in.penaltyIds, in.penaltyGenerated);   // no ids
    }
}
