package io.nemotron.core.weights;

import java.util.Locale;

/**
 * Bytes done of a total over an elapsed time, and what follows from them: the rate so far and, at that rate, the time
 * left. {@code label} names what is loading (the model, or the model and a phase and rank).
 */
public record Progress(String label, long doneBytes, long totalBytes, long elapsedNanos, boolean finished) {
    private static final double GB = 1e9;   // decimal gigabytes, as disk and link speeds are quoted

    /** Done over total, 0..1 (1 for nothing to do). */
    public double fraction() {
        return totalBytes == 0 ? 1 : Math.min(1, (double) doneBytes / totalBytes);
    }

    /** Bytes per second so far; 0 before any time has passed. */
    public double bytesPerSecond() {
        return elapsedNanos == 0 ? 0 : doneBytes / (elapsedNanos / 1e9);
    }

    /** Seconds left at the rate so far; NaN while nothing is done (no rate to go by), 0 when all is. */
    public double etaSeconds() {
        long left = Math.max(0, totalBytes - doneBytes);
        if (left == 0) {
            return 0;
        }
        double rate = bytesPerSecond();
        return rate == 0 ? Double.NaN : left / rate;
    }

    public double elapsedSeconds() {
        return elapsedNanos / 1e9;
    }

    /** {@code loading <label>: X of Y GB (Z%), N GB/s, ETA Ts}: the progress log's line. */
    public String line() {
        double eta = etaSeconds();
        return String.format(Locale.ROOT, "loading %s: %.2f of %.2f GB (%d%%), %.2f GB/s, ETA %s", label,
                doneBytes / GB, totalBytes / GB, (int) Math.floor(fraction() * 100), bytesPerSecond() / GB,
                Double.isNaN(eta) ? "?" : Math.round(eta) + "s");
    }

    /** {@code loaded <label>: Y GB in T s (N GB/s)}: the line at the end of the load. */
    public String finalLine() {
        return String.format(Locale.ROOT, "loaded %s: %.2f GB in %.1f s (%.2f GB/s)", label, doneBytes / GB,
                elapsedSeconds(), bytesPerSecond() / GB);
    }
}
