package io.nemotron.core.parallel;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;

/**
 * Ranks that are threads of one process (the CPU backend's tensor parallelism): an all-reduce publishes each rank's
 * buffer, waits for all, and lets every rank sum the buffers itself in rank order (identical bits everywhere, no
 * reduction tree to keep deterministic). Two barriers per collective: one before reading, one before anyone may
 * overwrite its buffer with the sum. {@link #abort} breaks a collective that will never complete because a rank
 * failed; the group is usable again for the next step.
 */
public final class InProcessGroup {
    private final int size;
    private final CyclicBarrier barrier;
    private final float[][] published;
    private final int[] offsets;
    private final float[][] scratch;

    public InProcessGroup(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("group size must be >= 1, got " + size);
        }
        this.size = size;
        this.barrier = new CyclicBarrier(size);
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

    /** Fails every rank waiting in a collective (another rank threw); resets the group for the next step. */
    public void abort() {
        barrier.reset();
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
            try {
                barrier.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommunicatorException("rank " + rank + " was interrupted in a collective", e);
            } catch (BrokenBarrierException e) {
                throw new CommunicatorException("rank " + rank + ": another rank failed during the step", e);
            }
        }
    }
}
