package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** SchedulerConfig validation and Sequence's own bookkeeping. */
class SchedulerInputsTest {
    @Test
    void configRejectsOutOfRangeLimitsWithTheirNames() {
        assertMessage("maxNumBatchedTokens must be >= 1, got 0", () -> new SchedulerConfig(0, 1, 1, 0));
        assertMessage("maxNumSeqs must be >= 1, got 0", () -> new SchedulerConfig(1, 0, 1, 0));
        assertMessage("maxWaiting must be >= 1, got -1", () -> new SchedulerConfig(1, 1, -1, 0));
        assertMessage("longPrefillThreshold must be >= 0 (0 = off), got -2", () -> new SchedulerConfig(1, 1, 1, -2));
        assertEquals(Integer.MAX_VALUE, new SchedulerConfig(1, 1, 1, 0).chunkLimit());
        assertEquals(7, new SchedulerConfig(1, 1, 1, 7).chunkLimit());
    }

    private static void assertMessage(String message, Runnable r) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, r::run).getMessage());
    }

    @Test
    void sequenceTokensGrowByDoublingAndStopAtMaxTokens() {
        Sequence s = new Sequence("r", new int[] {5, 6}, 40, 0, 0);
        assertEquals(2, s.numTokens());
        assertEquals(2, s.numPromptTokens());
        assertEquals(18, s.tokens().length); // prompt + min(maxTokens, 16)
        int[] before = s.tokens();
        for (int i = 0; i < 16; i++) {
            s.appendToken(i);
        }
        assertSame(before, s.tokens()); // no copy while there is room
        s.appendToken(16);
        assertNotSame(before, s.tokens());
        assertEquals(36, s.tokens().length);
        for (int i = 17; i < 40; i++) {
            s.appendToken(i);
        }
        assertEquals(40, s.numOutputTokens());
        assertEquals(5, s.tokens()[0]);
        assertEquals(39, s.tokens()[41]);
        assertTrue(assertThrows(IllegalStateException.class, () -> s.appendToken(1)).getMessage()
                .contains("maxTokens=40"));
    }

    @Test
    void sequenceRejectsEmptyPromptsAndZeroMaxTokens() {
        assertThrows(IllegalArgumentException.class, () -> new Sequence("r", new int[0], 1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sequence("r", new int[] {1}, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sequence("", new int[] {1}, 1, 0, 0));
        Sequence s = new Sequence("r", new int[] {1}, 1, 3, 42);
        assertEquals(Sequence.Status.WAITING, s.status());
        assertEquals(3, s.priority());
        assertEquals(42, s.arrival());
    }
}
