package io.nemotron.core.weights;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * How far a model's load has got, for the progress log, the load metrics and the CLI's stderr. A load is a list of
 * phases, each with the bytes it will move (declared when it starts) and the bytes moved so far: the CPU's packing of
 * the weights into the kernels' layout, or each rank's upload to its GPU. Phases are added and counted from any
 * thread (CUDA ranks upload in parallel, each into its own phase); a {@link #snapshot()} reads them without locks.
 *
 * <p>The load ends at {@link #finish()} (the owner's word: after the warm-up), or by itself once it is
 * {@link #seal() sealed} (no phase is still to come) and every phase has moved its bytes: then its time is frozen at
 * the last byte, which is what {@code nemotron_model_load_seconds} and the final log line report.
 */
public final class LoadProgress {
    private final String model;
    private final LongSupplier clock;        // nanoseconds, System::nanoTime but for tests
    private final LongConsumer onBytes;      // sees every chunk on the loading thread (a test throttles here)
    private final long startNanos;
    private final List<Phase> phases = new CopyOnWriteArrayList<>();
    private volatile boolean sealed;
    private final AtomicLong endNanos = new AtomicLong(Long.MIN_VALUE);   // MIN_VALUE: still loading

    private LoadProgress(String model, LongSupplier clock, LongConsumer onBytes) {
        this.model = model;
        this.clock = clock;
        this.onBytes = onBytes;
        this.startNanos = clock.getAsLong();
    }

    /** A load of {@code model} (its name in the log lines) starting now. */
    public static LoadProgress start(String model) {
        return new LoadProgress(model, System::nanoTime, bytes -> { });
    }

    /**
     * As above, timed by {@code nanoClock}, with {@code onBytes} told each chunk's bytes on the thread that moved them
     * (after they are counted).
     */
    public static LoadProgress start(String model, LongSupplier nanoClock, LongConsumer onBytes) {
        return new LoadProgress(model, nanoClock, onBytes);
    }

    public String model() {
        return model;
    }

    /** A phase moving {@code totalBytes}, starting now; the same {@code name} may be used by each rank. */
    public Phase phase(String name, long totalBytes) {
        return add(name, -1, totalBytes);
    }

    /** {@code rank}'s share of a phase (its own line in the log), starting when its loader calls {@code begin}. */
    public ByteProgress byteProgress(String name, int rank) {
        if (rank < 0) {
            throw new IllegalArgumentException("rank must be >= 0, got " + rank);
        }
        return total -> add(name, rank, total);
    }

    /** As {@link #byteProgress(String, int)} for a model that is not split: one line, no rank. */
    public ByteProgress byteProgress(String name) {
        return total -> add(name, -1, total);
    }

    private Phase add(String name, int rank, long totalBytes) {
        if (totalBytes < 0) {
            throw new IllegalArgumentException("phase " + name + ": total bytes must be >= 0, got " + totalBytes);
        }
        Phase p = new Phase(name, rank, totalBytes, clock.getAsLong());
        phases.add(p);
        endIfComplete();
        return p;
    }

    /** No phase is still to come: the load ends by itself when the last phase has moved its bytes. */
    public void seal() {
        sealed = true;
        endIfComplete();
    }

    /** The load is over (idempotent): its time stops here unless it ended earlier, at its last byte. */
    public void finish() {
        endNanos.compareAndSet(Long.MIN_VALUE, clock.getAsLong());
    }

    public boolean finished() {
        return endNanos.get() != Long.MIN_VALUE;
    }

    private void endIfComplete() {
        if (!sealed || finished()) {
            return;
        }
        for (Phase p : phases) {
            if (!p.complete()) {
                return;
            }
        }
        finish();
    }

    /** The whole load (every phase together) and each phase, as of now. */
    public Snapshot snapshot() {
        long end = endNanos.get();
        long now = end != Long.MIN_VALUE ? end : clock.getAsLong();
        long done = 0;
        long total = 0;
        double eta = 0;
        boolean split = false;
        List<Progress> each = new ArrayList<>();
        for (Phase p : phases) {
            long d = p.done.get();
            done += d;
            total += p.totalBytes;
            long pEnd = p.endNanos != Long.MIN_VALUE ? p.endNanos : now;
            split |= p.rank >= 0;
            Progress phase = Progress.of(p.label(), d, p.totalBytes, Math.max(0, pEnd - p.startNanos),
                    p.complete());
            each.add(phase);
            // each phase at its own rate (not the load's, which counts the setup before it), ranks side by side
            eta = Double.isNaN(phase.etaSeconds()) ? Double.NaN : Math.max(eta, phase.etaSeconds());
        }
        long elapsed = Math.max(0, now - startNanos);
        return new Snapshot(new Progress(model, done, total, elapsed, end != Long.MIN_VALUE, done >= total ? 0 : eta),
                List.copyOf(each), split);
    }

    /**
     * The load as a whole ({@code total}: its time left is the slowest phase's, each at its own rate) and its phases,
     * in the order they started; {@code split}: some phase is a rank's (the log shows each rank's line).
     */
    public record Snapshot(Progress total, List<Progress> phases, boolean split) {}

    /**
     * One phase's bytes (or the whole load's), counted as they are moved.
     */
    public final class Phase implements LongConsumer {
        private final String name;
        private final int rank;          // -1: not split
        private final long totalBytes;
        private final long startNanos;
        private final AtomicLong done = new AtomicLong();
        private volatile long endNanos = Long.MIN_VALUE;

        private Phase(String name, int rank, long totalBytes, long startNanos) {
            this.name = name;
            this.rank = rank;
            this.totalBytes = totalBytes;
            this.startNanos = startNanos;
            if (totalBytes == 0) {
                endNanos = startNanos;
            }
        }

        /** {@code bytes} more of this phase are done. */
        @Override
        public void accept(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("phase " + label() + ": bytes done must be >= 0, got " + bytes);
            }
            long now = done.addAndGet(bytes);
            if (now >= totalBytes && endNanos == Long.MIN_VALUE) {
                endNanos = clock.getAsLong();
                endIfComplete();
            }
            onBytes.accept(bytes);
        }

        boolean complete() {
            return done.get() >= totalBytes;
        }

        String label() {
            return rank < 0 ? model + " (" + name + ")" : model + " (" + name + " rank " + rank + ")";
        }
    }
}
