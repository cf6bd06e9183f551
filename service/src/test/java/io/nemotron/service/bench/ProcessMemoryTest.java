package io.nemotron.service.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ProcessMemoryTest {
    // trimmed from a real /proc/PID/status and smaps_rollup of this machine; the numbers below are these times 1024
    private static final String STATUS = """
            Name:\tjava
            VmPeak:\t 9183460 kB
            VmRSS:\t 2428476 kB
            RssAnon:\t 2344704 kB
            RssFile:\t   83772 kB
            RssShmem:\t       0 kB
            Threads:\t44
            """;
    private static final String SMAPS_ROLLUP = """
            56496b814000-7fff1a58a000 ---p 00000000 00:00 0                          [rollup]
            Rss:             2428476 kB
            Pss:             2414980 kB
            Pss_Anon:        2344704 kB
            Anonymous:       2344704 kB
            """;

    @Test
    void readsTheKilobyteLinesAsBytes() {
        ProcessMemory m = ProcessMemory.parse(STATUS, SMAPS_ROLLUP);
        assertEquals(2_428_476L * 1024, m.vmRss());
        assertEquals(2_344_704L * 1024, m.rssAnon());
        assertEquals(83_772L * 1024, m.rssFile());
        assertEquals(0, m.rssShmem());
        assertEquals(2_414_980L * 1024, m.pss()); // not Pss_Anon, whose name starts the same
        assertEquals(2_344_704L * 1024, m.anonymous());
    }

    @Test
    void theOwnProcessAddsUpAsTheKernelDefinesVmRss() {
        // the kernel's VmRSS is the sum of its three counters (fs/proc/task_mmu.c); each is read from a separate line
        ProcessMemory m = ProcessMemory.of(ProcessHandle.current().pid());
        assertEquals(m.vmRss(), m.rssAnon() + m.rssFile() + m.rssShmem());
        // this JVM has a heap, so anonymous pages are far beyond a page; Pss never exceeds Rss
        assertThat(m.rssAnon()).isGreaterThan(1L << 20);
        assertThat(m.pss()).isLessThanOrEqualTo(m.vmRss());
    }

    @Test
    void aMissingLineIsNamed() {
        assertThatThrownBy(() -> ProcessMemory.parse("VmRSS:\t 1 kB\n", SMAPS_ROLLUP))
                .hasMessageContaining("RssAnon");
        assertThatThrownBy(() -> ProcessMemory.of(Long.MAX_VALUE)).hasMessageContaining(Long.toString(Long.MAX_VALUE));
    }
}
