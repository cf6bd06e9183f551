package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The rate, ETA and percentage of a progress line against values worked out by hand. */
class ProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void twoOfTenGigabytesInFourSecondsIsHalfAGigabytePerSecondWithSixteenSecondsLeft() {
        Progress p = Progress.of("m", 2_000_000_000L, 10_000_000_000L, 4 * SECOND, false);
        // 2e9 B / 4 s = 5e8 B/s; (10e9 - 2e9) B / 5e8 B/s = 16 s; 2/10 = 20 %
        assertEquals(5e8, p.bytesPerSecond(), 0);
        assertEquals(16.0, p.etaSeconds(), 0);
        assertEquals(0.2, p.fraction(), 0);
        assertEquals("loading m: 2.00 of 10.00 GB (20%), 0.50 GB/s, ETA 16s", p.line());
    }

    @Test
    void aThirdIsFloored_andTheEtaRoundedToWholeSeconds() {
        // 1 of 3 GB in 2.5 s: 0.4 GB/s; 2 GB left / 0.4 GB/s = 5 s; 33.3 % shows as 33 (100 % only when all is done)
        Progress p = Progress.of("m", 1_000_000_000L, 3_000_000_000L, 2_500_000_000L, false);
        assertEquals(4e8, p.bytesPerSecond(), 1e-6);
        assertEquals(5.0, p.etaSeconds(), 1e-9);
        assertEquals("loading m: 1.00 of 3.00 GB (33%), 0.40 GB/s, ETA 5s", p.line());
        Progress almost = Progress.of("m", 999_999_999L, 1_000_000_000L, SECOND, false);
        assertTrue(almost.line().contains("(99%)"), almost.line());
    }

    @Test
    void underAGigabyteTheSizesAndRateShowInMegabytes() {
        // 12.5 of 45 MB in 0.5 s: 25 MB/s; 32.5 MB left / 25 MB/s = 1.3 s, shown as 1 s; 27.7 % floored
        Progress p = Progress.of("demo", 12_500_000L, 45_000_000L, SECOND / 2, false);
        assertEquals("loading demo: 12.50 of 45.00 MB (27%), 25.00 MB/s, ETA 1s", p.line());
        assertEquals("loaded demo: 45.00 MB in 1.8 s (25.00 MB/s)",
                Progress.of("demo", 45_000_000L, 45_000_000L, 1_800_000_000L, true).finalLine());
    }

    @Test
    void nothingDoneYetHasNoRateAndNoEta() {
        Progress p = Progress.of("m", 0, 5_000_000_000L, 3 * SECOND, false);
        assertEquals(0, p.bytesPerSecond(), 0);
        assertTrue(Double.isNaN(p.etaSeconds()));
        assertEquals("loading m: 0.00 of 5.00 GB (0%), 0.00 GB/s, ETA ?", p.line());
        Progress atStart = Progress.of("m", 0, 5_000_000_000L, 0, false);
        assertEquals(0, atStart.bytesPerSecond(), 0);
    }

    @Test
    void allDoneHasNoTimeLeft_andTheFinalLineGivesTheTotalTime() {
        // 42 GB in 12 s: 3.5 GB/s
        Progress p = Progress.of("m", 42_000_000_000L, 42_000_000_000L, 12 * SECOND, true);
        assertEquals(0, p.etaSeconds(), 0);
        assertEquals(1, p.fraction(), 0);
        assertEquals("loaded m: 42.00 GB in 12.0 s (3.50 GB/s)", p.finalLine());
        assertEquals(1, Progress.of("m", 0, 0, 0, true).fraction(), 0);
    }
}
