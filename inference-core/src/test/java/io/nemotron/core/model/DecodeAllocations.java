package io.nemotron.core.model;

import io.nemotron.core.runtime.LoadedModel;
import java.lang.management.ManagementFactory;

/**
 * Measures what a decode step allocates once warm, with the JVM's per-thread allocation counter as the oracle. The
 * counter sees everything the calling thread allocates, including what interpreted or C1-compiled Vector API code
 * boxes before C2 has compiled a kernel; how soon C2 gets there depends on the machine's load (a busy 2-core CI
 * machine compiled late enough that a fixed warm-up of 6,000 steps still saw 9 KiB a step). So the measurement is
 * repeated after more warm-up, up to {@link #ROUNDS} times, and the least window counts: an allocation that is really
 * part of a step shows in every window, one made by code not yet compiled goes away.
 */
final class DecodeAllocations {
    /** Below this over {@link #STEPS} steps: anything per step (a lambda, a boxed int, a copy) would be >= 3 KiB. */
    static final long LIMIT = 2048;
    static final int STEPS = 200;
    private static final int ROUNDS = 10;
    private static final int WARMUP_PER_ROUND = 3000;

    private DecodeAllocations() {}

    /** The fewest bytes this thread allocated over {@link #STEPS} decode steps, over up to {@link #ROUNDS} windows. */
    static long steadyStateBytes(LoadedModel m) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        SingleSequence cache = new SingleSequence(m.transformer(), 2 * STEPS + 8);
        float[] logits = new float[m.config().vocabSize()];
        int[] one = {1};
        cache.forward(new int[] {1, 5, 7}, 3, logits);
        long tid = Thread.currentThread().threadId();
        long least = Long.MAX_VALUE;
        for (int round = 0; round < ROUNDS && least >= LIMIT; round++) {
            for (int i = 0; i < WARMUP_PER_ROUND; i++) {
                if (cache.length() == cache.capacity()) {
                    cache.setLength(3);   // rewind to stay inside the context
                }
                cache.forward(one, 1, logits);
            }
            cache.setLength(3);
            long before = threads.getThreadAllocatedBytes(tid);
            for (int i = 0; i < STEPS; i++) {
                one[0] = (i * 31) % m.config().vocabSize();
                cache.forward(one, 1, logits);
            }
            least = Math.min(least, threads.getThreadAllocatedBytes(tid) - before);
        }
        return least;
    }
}
