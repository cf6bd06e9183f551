package io.nemotron.core.weights;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * Shows a {@link LoadProgress} while it runs: a thread of its own hands a snapshot to a {@link Sink} every
 * {@code every} (the first after {@code firstAfter}, so a fast load shows nothing), and the final snapshot once the
 * load has finished. Closing it stops the thread; a load that never finished (it failed) gets no final line.
 */
public final class LoadProgressReporter implements AutoCloseable {
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);   // how soon the end is noticed

    /** Where the snapshots go: the log, or the CLI's stderr. */
    public interface Sink {
        void progress(LoadProgress.Snapshot snapshot);

        /** The load finished; {@code shownBefore}: whether any progress was shown. */
        void done(LoadProgress.Snapshot snapshot, boolean shownBefore);
    }

    private final LoadProgress progress;
    private final long firstNanos;
    private final long everyNanos;
    private final Sink sink;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread thread;

    private LoadProgressReporter(LoadProgress progress, Duration firstAfter, Duration every, Sink sink) {
        if (every.isNegative() || every.isZero()) {
            throw new IllegalArgumentException("the load progress interval must be positive, got " + every);
        }
        this.progress = progress;
        this.firstNanos = Math.max(0, firstAfter.toNanos());
        this.everyNanos = every.toNanos();
        this.sink = sink;
        this.thread = Thread.ofPlatform().daemon(true).name("load-progress").unstarted(this::run);
    }

    public static LoadProgressReporter start(LoadProgress progress, Duration firstAfter, Duration every, Sink sink) {
        LoadProgressReporter r = new LoadProgressReporter(progress, firstAfter, every, sink);
        r.thread.start();
        return r;
    }

    /** The server's way: each snapshot logged at info, the whole load's line first, then each phase's while it runs. */
    public static Sink log(Logger log) {
        return new Sink() {
            @Override
            public void progress(LoadProgress.Snapshot s) {
                log.info(s.total().line());
                if (s.split()) {
                    s.phases().stream().filter(p -> !p.finished()).forEach(p -> log.info(p.line()));
                }
            }

            @Override
            public void done(LoadProgress.Snapshot s, boolean shownBefore) {
                log.info(s.total().finalLine());
                s.phases().forEach(p -> log.info(p.finalLine()));
            }
        };
    }

    private void run() {
        boolean shown = false;
        long next = System.nanoTime() + firstNanos;
        try {
            while (!progress.finished()) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    if (closed.await(Math.min(wait, POLL_NANOS), TimeUnit.NANOSECONDS)) {
                        break;
                    }
                    continue;
                }
                LoadProgress.Snapshot s = progress.snapshot();
                if (s.total().totalBytes() == 0) {
                    // no phase has declared its bytes yet (a start that maps a cache): "0 of 0" would say nothing
                    next = System.nanoTime() + POLL_NANOS;
                    continue;
                }
                sink.progress(s);
                shown = true;
                next += everyNanos;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (progress.finished()) {
            sink.done(progress.snapshot(), shown);
        }
    }

    /** Stops showing progress, after the final line when the load finished; waits for the thread. */
    @Override
    public void close() {
        closed.countDown();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
