package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;

/** Phases, ranks and the end of a load, on a clock the test moves. */
class LoadProgressTest {
    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong now = new AtomicLong(100 * SECOND);

    private LoadProgress start() {
        return LoadProgress.start("m", now::get, bytes -> { });
    }

    @Test
    void theWholeLoadSumsItsPhasesAndTimesFromItsStart() {
        LoadProgress p = start();
        now.addAndGet(SECOND);
        LoadProgress.Phase pack = p.phase("pack", 6_000_000_000L);
        now.addAndGet(2 * SECOND);
        pack.accept(1_000_000_000L);
        pack.accept(2_000_000_000L);
        var s = p.snapshot();
        // the phase began a second after the load: 3 of 6 GB in 2 s, 1.5 GB/s, so 3 GB left take 2 s
        assertEquals(Progress.of("m (pack)", 3_000_000_000L, 6_000_000_000L, 2 * SECOND, false), s.phases().getFirst());
        assertEquals(2.0, s.phases().getFirst().etaSeconds(), 1e-9);
        // the load: 3 of 6 GB in 3 s (1 GB/s on average); its time left is its phase's, not 3 s at the average rate
        assertEquals(new Progress("m", 3_000_000_000L, 6_000_000_000L, 3 * SECOND, false, 2.0), s.total());
        assertEquals("loading m: 3.00 of 6.00 GB (50%), 1.00 GB/s, ETA 2s", s.total().line());
        assertFalse(s.split());
    }

    @Test
    void aSealedLoadEndsAtItsLastByte_notWhenItIsNextLookedAt() {
        LoadProgress p = start();
        LoadProgress.Phase pack = p.phase("pack", 10L);
        p.seal();
        now.addAndGet(4 * SECOND);
        pack.accept(10);
        assertTrue(p.finished());
        now.addAndGet(60 * SECOND);   // the warm-up goes on, a scrape comes later: the load's time stays frozen
        p.finish();
        assertEquals(4 * SECOND, p.snapshot().total().elapsedNanos());
        assertTrue(p.snapshot().total().finished());
    }

    @Test
    void anUnsealedLoadWaitsForPhasesStillToCome_andFinishStopsItsClockWhereverItIs() {
        LoadProgress p = start();
        p.byteProgress("upload", 0).begin(5).accept(5);
        assertFalse(p.finished(), "rank 1 has not begun its upload yet");
        LongConsumer rank1 = p.byteProgress("upload", 1).begin(5);
        p.seal();
        assertFalse(p.finished());
        now.addAndGet(2 * SECOND);
        rank1.accept(2);
        p.finish();   // the owner ends it (a failed or abandoned load): time stops, bytes stay as they were
        now.addAndGet(SECOND);
        Progress total = p.snapshot().total();
        assertEquals(List.of(7L, 10L, 2 * SECOND), List.of(total.doneBytes(), total.totalBytes(), total.elapsedNanos()));
        assertTrue(total.finished());
        assertTrue(p.snapshot().split());
        assertEquals(List.of("m (upload rank 0)", "m (upload rank 1)"),
                p.snapshot().phases().stream().map(Progress::label).toList());
    }

    @Test
    void ranksUploadingSideBySideAreDoneWhenTheSlowestIs() {
        LoadProgress p = start();
        LongConsumer fast = p.byteProgress("upload", 0).begin(8_000_000_000L);
        LongConsumer slow = p.byteProgress("upload", 1).begin(8_000_000_000L);
        now.addAndGet(2 * SECOND);
        fast.accept(4_000_000_000L);   // 2 GB/s: 4 GB left, 2 s
        slow.accept(1_000_000_000L);   // 0.5 GB/s: 7 GB left, 14 s
        assertEquals(14.0, p.snapshot().total().etaSeconds(), 1e-9);
        LongConsumer idle = p.byteProgress("upload", 2).begin(8_000_000_000L);
        assertTrue(Double.isNaN(p.snapshot().total().etaSeconds()), "rank 2 has no rate yet, so the load has no ETA");
        idle.accept(8_000_000_000L);
        assertEquals(14.0, p.snapshot().total().etaSeconds(), 1e-9);
    }

    @Test
    void ranksCountInParallelWithoutLosingBytes() throws Exception {
        LoadProgress p = LoadProgress.start("m");
        int ranks = 8;
        int chunks = 10_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            ByteProgress rank = p.byteProgress("upload", r);
            threads.add(Thread.ofPlatform().start(() -> {
                LongConsumer c = rank.begin((long) chunks * 3);
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < chunks; i++) {
                    c.accept(3);
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        p.seal();
        assertEquals((long) ranks * chunks * 3, p.snapshot().total().doneBytes());
        assertTrue(p.finished());
        p.snapshot().phases().forEach(ph -> assertEquals((long) chunks * 3, ph.doneBytes()));
    }

    @Test
    void everyChunkIsShownToTheObserverOnTheLoadingThread() {
        List<Long> seen = new ArrayList<>();
        LoadProgress p = LoadProgress.start("m", now::get, seen::add);
        LoadProgress.Phase ph = p.phase("pack", 7L);
        ph.accept(3);
        ph.accept(4);
        assertEquals(List.of(3L, 4L), seen);
    }

    @Test
    void negativeBytesAreRefusedNamingThePhase() {
        LoadProgress p = start();
        var e = assertThrows(IllegalArgumentException.class, () -> p.phase("pack", 4L).accept(-1));
        assertTrue(e.getMessage().contains("m (pack)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.phase("pack", -4L));
        assertThrows(IllegalArgumentException.class, () -> p.byteProgress("upload", -1));
    }
}
