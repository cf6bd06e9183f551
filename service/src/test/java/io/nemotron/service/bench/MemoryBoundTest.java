package io.nemotron.service.bench;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MemoryBoundTest {
    private static final long GIB = 1L << 30;

    @Test
    void isTheIssuesFormula() {
        // 1.15 x 2 GiB + 1 GiB + 1 GiB = 4.3 GiB, by hand
        MemoryBound b = new MemoryBound(2 * GIB, GIB);
        assertEquals((long) (4.3 * GIB), b.bytes());
        assertTrue(b.holds((long) (4.3 * GIB)));
        assertFalse(b.holds((long) (4.3 * GIB) + 1));
    }

    @Test
    void negativePartsAreRefused() {
        assertThatThrownBy(() -> new MemoryBound(-1, 0)).hasMessageContaining("weight bytes");
    }
}
