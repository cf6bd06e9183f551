package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The reporter's thread: lines while the load runs, the final line when it ends, nothing for a fast load. */
class LoadProgressReporterTest {

    /** Records what the reporter hands over. */
    static final class Recording implements LoadProgressReporter.Sink {
        final List<String> lines = new CopyOnWriteArrayList<>();
        volatile String done;
        volatile boolean shownBefore;

        @Override
        public void progress(LoadProgress.Snapshot s) {
            lines.add(s.total().line());
        }

        @Override
        public void done(LoadProgress.Snapshot s, boolean shown) {
            shownBefore = shown;
            done = s.total().finalLine();
        }
    }

    @Test
    void aSlowLoadShowsLinesEveryIntervalThenTheFinalLine() throws Exception {
        LoadProgress p = LoadProgress.start("m");
        LoadProgress.Phase pack = p.phase("pack", 100L);
        p.seal();
        Recording sink = new Recording();
        try (LoadProgressReporter r = LoadProgressReporter.start(p, Duration.ZERO, Duration.ofMillis(20), sink)) {
            pack.accept(40);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (sink.lines.stream().noneMatch(l -> l.contains("(40%)")) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            pack.accept(60);   // the load ends by itself: the reporter notices and writes the final line
            while (sink.done == null && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        }
        assertTrue(sink.lines.stream().anyMatch(l -> l.startsWith("loading m: 0.00 of 0.00 MB (40%)")), sink.lines.toString());
        assertTrue(sink.done.startsWith("loaded m: 0.00 MB in "), sink.done);
        assertTrue(sink.shownBefore);
    }

    @Test
    void aLoadFasterThanTheFirstDelayShowsNoProgress_onlyTheEnd() {
        LoadProgress p = LoadProgress.start("m");
        p.phase("pack", 8L).accept(8);
        p.seal();
        Recording sink = new Recording();
        try (LoadProgressReporter r = LoadProgressReporter.start(p, Duration.ofSeconds(30), Duration.ofSeconds(5), sink)) {
            assertTrue(p.finished());
        }
        assertEquals(List.of(), sink.lines);
        assertTrue(sink.done.startsWith("loaded m:"), sink.done);
        assertFalse(sink.shownBefore, "the CLI prints nothing at all for a load like this");
    }

    @Test
    void aLoadThatNeverFinishedGetsNoFinalLine() {
        LoadProgress p = LoadProgress.start("m");
        p.phase("pack", 8L).accept(3);
        Recording sink = new Recording();
        LoadProgressReporter.start(p, Duration.ofSeconds(30), Duration.ofSeconds(5), sink).close();
        assertEquals(null, sink.done);
    }

    /** Before any phase has declared its bytes (a start that maps a weight cache) there is nothing to report. */
    @Test
    void noLineBeforeAPhaseDeclaresItsBytes() throws Exception {
        LoadProgress p = LoadProgress.start("m");
        Recording sink = new Recording();
        try (LoadProgressReporter r = LoadProgressReporter.start(p, Duration.ZERO, Duration.ofMillis(10), sink)) {
            Thread.sleep(200);   // twenty intervals with no phase
            assertEquals(List.of(), sink.lines);
            LoadProgress.Phase pack = p.phase("pack", 100L);
            pack.accept(25);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (sink.lines.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        }
        assertTrue(sink.lines.get(0).startsWith("loading m: 0.00 of 0.00 MB (25%)"), sink.lines.toString());
    }
}
