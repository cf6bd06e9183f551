package io.nemotron.core.weights;

import java.util.Locale;

/**
 * Bytes done of a total over an elapsed time, the rate that follows, and the time left: {@code label} names what is
 * loading (the model, or the model and a phase and rank). Sizes show in GB (decimal, as disk and link speeds are
 * quoted), or in MB while the total is under a GB.
 */
public record Progress(String label, long doneBytes, long totalBytes, long elapsedNanos, boolean finished,
                       double etaSeconds) {

    /** A single stretch of work: the time left is what is left at the rate so far ({@link #etaAtRate}). */
    public static Progress of(String label, long doneBytes, long totalBytes, long elapsedNanos, boolean finished) {
        return new Progress(label, doneBytes, totalBytes, elapsedNanos, finished,
                etaAtRate(doneBytes, totalBytes, elapsedNanos));
    }

    /** Seconds left at the rate so far; NaN while nothing is done (no rate to go by), 0 when all is. */
    public static double etaAtRate(long doneBytes, long totalBytes, long elapsedNanos) {
        long left = Math.max(0, totalBytes - doneBytes);
        if (left == 0) {
            return 0;
        }
        return doneBytes == 0 || elapsedNanos == 0 ? Double.NaN : left / (doneBytes / (elapsedNanos / 1e9));
    }

    /** Done over total, 0..1 (1 for nothing to do). */
    public double fraction() {
        return totalBytes == 0 ? 1 : Math.min(1, (double) doneBytes / totalBytes);
    }

    /** Bytes per second so far; 0 before any time has passed. */
    public double bytesPerSecond() {
        return elapsedNanos == 0 ? 0 : doneBytes / (elapsedNanos / 1e9);
    }

    public double elapsedSeconds() {
        return elapsedNanos / 1e9;
    }

    /** {@code loading <label>: X of Y GB (Z%), N GB/s, ETA Ts}: the progress log's line. */
    public String line() {
        Unit u = Unit.of(totalBytes);
        return String.format(Locale.ROOT, "loading %s: %.2f of %.2f %s (%d%%), %.2f %s/s, ETA %s", label,
                doneBytes / u.bytes, totalBytes / u.bytes, u.name, (int) Math.floor(fraction() * 100),
                bytesPerSecond() / u.bytes, u.name, Double.isNaN(etaSeconds) ? "?" : Math.round(etaSeconds) + "s");
    }

    /** {@code loaded <label>: Y GB in T s (N GB/s)}: the line at the end of the load. */
    public String finalLine() {
        Unit u = Unit.of(totalBytes);
        return String.format(Locale.ROOT, "loaded %s: %.2f %s in %.1f s (%.2f %s/s)", label, doneBytes / u.bytes,
                u.name, elapsedSeconds(), bytesPerSecond() / u.bytes, u.name);
    }

    private record Unit(String name, double bytes) {
        static Unit of(long totalBytes) {
            return totalBytes >= 1e9 ? new Unit("GB", 1e9) : new Unit("MB", 1e6);
        }
    }
}
