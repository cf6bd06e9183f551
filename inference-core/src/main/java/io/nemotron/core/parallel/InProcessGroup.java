package io.nemotron.core.parallel;

import io.nemotron.core.backend.Communicator;
import io.nemotron.core.backend.CommunicatorException;
import java.util.concurrent.Phaser;

/**
 * Ranks that are threads of one process (the CPU backend's tensor parallelism): an all-reduce publishes each rank's
 * buffer, waits for all, lets each rank sum its 1/size slice of the elements over all buffers in rank order
 * (identical bits whoever sums, no reduction tree to keep deterministic), and then every rank copies all slices.
 * Two barriers per collective: one before reading, one before anyone overwrites its buffer; a rank's slice sum
 * is read by the others only before the next collective's first barrier, the earliest its owner can rewrite it. {@link #abort} ends the step's collectives for good (a rank failed): ranks
 * waiting now and ranks that arrive later all fail at once, so none can wait for a rank that will never come;
 * {@link #reset} opens the next step.
 */
public final class InProcessGroup {
    private final int size;
    private volatile Phaser barrier;
    private final float[][] published;
    private final int[] offsets;
    private final float[][] scratch;

    public InProcessGroup(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("group size must be >= 1, got " + size);
        }
        this.size = size;
        this.barrier = new Phaser(size);
        this.published = new float[size][];
        this.offsets = new int[size];
        this.scratch = new float[size][0];
    }

    public int size() {
        return size;
    }

    /** The communicator of {@code rank}: to be used by one thread at a time (that rank's). */
    public Communicator member(int rank) {
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " outside [0, " + size + ")");
        }
        return new Member(rank);
    }

    /** Fails every rank in a collective of this step, now or later (another rank threw). */
    public void abort() {
        barrier.forceTermination();
    }

    /** A fresh step after an abort; call while no rank is inside a collective. */
    public void reset() {
        if (barrier.isTerminated()) {
            barrier = new Phaser(size);
        }
    }

    private final class Member implements Communicator {
        private final int rank;

        Member(int rank) {
            this.rank = rank;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void allReduceSum(float[] buf, int offset, int length) {
            if (size == 1) {
                return;
            }
            published[rank] = buf;
            offsets[rank] = offset;
            await();
            // reduce-scatter: this rank sums only its slice of the elements (in rank order, so the bits do not
            // depend on who sums), then every rank gathers all slices
            int from = slice(length, rank);
            int n = slice(length, rank + 1) - from;
            float[] sum = scratch[rank].length >= n ? scratch[rank] : (scratch[rank] = new float[n]);
            System.arraycopy(published[0], offsets[0] + from, sum, 0, n);
            for (int r = 1; r < size; r++) {
                float[] other = published[r];
                int o = offsets[r] + from;
                for (int i = 0; i < n; i++) {
                    sum[i] += other[o + i];
                }
            }
            await();   // every slice is summed and nobody reads the inputs any more: gather into the own buffer
            for (int r = 0; r < size; r++) {
                int at = slice(length, r);
                System.arraycopy(scratch[r], 0, buf, offset + at, slice(length, r + 1) - at);
            }
        }

        private int slice(int length, int r) {
            return (int) ((long) length * r / size);
        }

        private void await() {
            if (barrier.arriveAndAwaitAdvance() < 0) {   // terminated: abort() ran
                throw new CommunicatorException("rank " + rank + ": another rank failed during the step");
            }
        }
    }
}
