package io.nemotron.core.weights;

import java.util.function.LongConsumer;

/**
 * Where a loader that moves a known number of bytes (a rank's weight upload, a packing pass) reports them: told its
 * total once, before the first byte, then each chunk's bytes as it is done. {@link LoadProgress#byteProgress(String, int)}
 * gives one that counts into a load's progress.
 */
@FunctionalInterface
public interface ByteProgress {
    /** Counts nothing: for loads nobody watches (tests, benchmarks that time the load themselves). */
    ByteProgress NONE = total -> bytes -> { };

    /** Starts counting {@code totalBytes}; the returned consumer takes each chunk's bytes, from any one thread. */
    LongConsumer begin(long totalBytes);
}
