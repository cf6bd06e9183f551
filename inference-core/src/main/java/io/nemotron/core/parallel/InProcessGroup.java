package io.nemotron.core.parallel;

import java.util.concurrent.Phaser;

/**
 * Ranks that are threads of one process (the CPU backend's tensor parallelism): an all-reduce publishes each rank's
 * buffer, waits for all, and lets every rank sum the buffers itself in rank order (identical bits everywhere, no
 * reduction tree to keep deterministic). Two barriers per collective: one before reading, one before anyone may
 * overwrite its buffer with the sum. {@link #abort} ends the step's collectives for good (a rank failed): ranks
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
            float[] sum = scratch[rank].length >= length ? scratch[rank] : (scratch[rank] = new float[length]);
            float[] first = published[0];
            int firstOffset = offsets[0];
            System.arraycopy(first, firstOffset, sum, 0, length);
            for (int r = 1; r < size; r++) {
                float[] other = published[r];
                int o = offsets[r];
                for (int i = 0; i < length; i++) {
                    sum[i] += other[o + i];
                }
            }
            await();   // every rank has read every buffer: now each may overwrite its own
            System.arraycopy(sum, 0, buf, offset, length);
        }

        private void await() {
            if (barrier.arriveAndAwaitAdvance() < 0) {   // terminated: abort() ran
                throw new CommunicatorException("rank " + rank + ": another rank failed during the step", null);
            }
        }
    }
}
