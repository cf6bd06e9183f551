package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The capture sizes and the bucket of a step, checked against hand-written lists; and the on/off switch's parsing. */
class GraphBucketsTest {

    @Test
    void powersOfTwoBelowTheLargestThenTheLargest() {
        assertArrayEquals(new int[] {1, 2, 4, 8, 16, 32, 64, 128, 256}, new GraphBuckets(256).sizes());
        assertArrayEquals(new int[] {1, 2, 4, 6}, new GraphBuckets(6).sizes());
        assertArrayEquals(new int[] {1}, new GraphBuckets(1).sizes());
        assertArrayEquals(new int[] {1, 2, 4, 8, 16, 20}, new GraphBuckets(20).sizes());
    }

    @Test
    void aStepRunsInTheSmallestBucketThatHoldsIt() {
        GraphBuckets b = new GraphBuckets(20);
        assertEquals(1, b.bucketOf(1));
        assertEquals(4, b.bucketOf(3));
        assertEquals(8, b.bucketOf(5));
        assertEquals(16, b.bucketOf(16));
        assertEquals(20, b.bucketOf(17));
        assertEquals(20, b.bucketOf(20));
        assertEquals(-1, b.bucketOf(21), "above the largest: eager");
        assertThrows(IllegalArgumentException.class, () -> b.bucketOf(0));
        assertThrows(IllegalArgumentException.class, () -> new GraphBuckets(0));
    }

    /** The split-KV rule (rows <= 16) must give the same answer for a step and for its bucket. */
    @Test
    void aBucketSplitsKvExactlyWhenItsStepWould() {
        for (int max : new int[] {6, 16, 20, 256}) {
            GraphBuckets b = new GraphBuckets(max);
            for (int rows = 1; rows <= max; rows++) {
                assertEquals(rows <= CudaBackend.SPLIT_MAX_ROWS, b.bucketOf(rows) <= CudaBackend.SPLIT_MAX_ROWS,
                        rows + " rows of at most " + max);
            }
        }
    }

    @Test
    void theSwitchReadsOnAndOffAndNamesTheFlagOtherwise() {
        assertTrue(CudaGraphs.parse("on", "--cuda-graphs").enabled());
        assertTrue(CudaGraphs.parse(" ON ", "--cuda-graphs").enabled());
        assertFalse(CudaGraphs.parse("off", "--cuda-graphs").enabled());
        assertEquals(CudaGraphs.DEFAULT_MAX_BATCH, CudaGraphs.on().maxBatch());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaGraphs.parse("maybe", "--cuda-graphs"));
        assertEquals("--cuda-graphs must be on or off, got 'maybe'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CudaGraphs(true, 0));
    }
}
