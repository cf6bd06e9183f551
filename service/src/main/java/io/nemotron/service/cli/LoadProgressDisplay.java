package io.nemotron.service.cli;

import io.nemotron.core.weights.LoadProgress;
import io.nemotron.core.weights.LoadProgressReporter;
import java.io.PrintWriter;
import java.time.Duration;

/**
 * The CLI's load progress on stderr ({@code generate}, {@code bench}): nothing for a load done within a second; after
 * that the progress line every second, rewritten in place ({@code \r}) on a terminal or as plain lines every five
 * seconds otherwise, and the final line with the total time. Close it before writing to the terminal yourself: the
 * final line is then out (the load had ended) or never comes (it had not).
 */
final class LoadProgressDisplay implements AutoCloseable {
    static final Duration QUIET = Duration.ofSeconds(1);
    private static final Duration TTY_EVERY = Duration.ofSeconds(1);
    private static final Duration PLAIN_EVERY = Duration.ofSeconds(5);

    private final LoadProgress progress;
    private final LoadProgressReporter reporter;
    private final InPlace inPlace;   // null when not a terminal

    private LoadProgressDisplay(LoadProgress progress, LoadProgressReporter reporter, InPlace inPlace) {
        this.progress = progress;
        this.reporter = reporter;
        this.inPlace = inPlace;
    }

    /**
     * Shows the load of {@code model} (named as the user gave it: {@code demo} or a folder) on {@code err}; a terminal
     * when the JVM's console is one.
     */
    static LoadProgressDisplay show(String model, PrintWriter err) {
        var console = System.console();
        boolean terminal = console != null && console.isTerminal();
        return show(LoadProgress.start(model), err, terminal, QUIET, terminal ? TTY_EVERY : PLAIN_EVERY);
    }

    /** {@code progress} on {@code err}: the first line after {@code quiet}, then every {@code every}. */
    static LoadProgressDisplay show(LoadProgress progress, PrintWriter err, boolean terminal, Duration quiet,
                                    Duration every) {
        InPlace inPlace = terminal ? new InPlace(err) : null;
        LoadProgressReporter.Sink sink = terminal ? inPlace : new Lines(err);
        return new LoadProgressDisplay(progress, LoadProgressReporter.start(progress, quiet, every, sink), inPlace);
    }

    LoadProgress progress() {
        return progress;
    }

    /** Idempotent: the first call stops the display (after the final line when the load had ended). */
    @Override
    public void close() {
        reporter.close();
        if (inPlace != null) {
            inPlace.endLine();   // a load that failed after a line was shown: the error starts on a line of its own
        }
    }

    /** A terminal: the whole load's line, rewritten in place; the final line ends it. */
    private static final class InPlace implements LoadProgressReporter.Sink {
        private final PrintWriter err;
        private boolean lineOpen;   // a progress line is on the terminal without its newline

        InPlace(PrintWriter err) {
            this.err = err;
        }

        @Override
        public synchronized void progress(LoadProgress.Snapshot s) {
            err.print("\r" + s.total().line() + "\u001b[K");   // erase what a longer line left
            err.flush();
            lineOpen = true;
        }

        @Override
        public synchronized void done(LoadProgress.Snapshot s, boolean shownBefore) {
            if (shownBefore) {
                err.println("\r" + s.total().finalLine() + "\u001b[K");
                err.flush();
                lineOpen = false;
            }
        }

        synchronized void endLine() {
            if (lineOpen) {
                err.println();
                err.flush();
                lineOpen = false;
            }
        }
    }

    /** Not a terminal (a log file, a pipe): each snapshot as lines, every rank's while it runs. */
    private record Lines(PrintWriter err) implements LoadProgressReporter.Sink {
        @Override
        public void progress(LoadProgress.Snapshot s) {
            err.println(s.total().line());
            if (s.split()) {
                s.phases().stream().filter(p -> !p.finished()).forEach(p -> err.println(p.line()));
            }
            err.flush();
        }

        @Override
        public void done(LoadProgress.Snapshot s, boolean shownBefore) {
            if (shownBefore) {
                err.println(s.total().finalLine());
                err.flush();
            }
        }
    }
}
