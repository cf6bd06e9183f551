package io.nemotron.core.backend.cpu;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Owned pool for compute: {@code threads} workers including the calling thread; never the common pool.
 *
 * <p>A forward pass makes ~100 {@code parallelFor} calls per token, so the hand-off must cost microseconds,
 * not the tens of microseconds of an executor: a call bumps a volatile generation counter, workers that are
 * spinning on it ({@link Thread#onSpinWait}) pick it up at once, workers that have gone to sleep after
 * {@code spinNanos} without work are unparked, and the caller runs chunk 0 itself.
 *
 * <p>NOTE: one caller at a time (the engine thread); a concurrent or nested call throws rather than deadlocks.
 * Size it to the physical cores left to compute: spinning workers on an oversubscribed machine steal the
 * cycles the others need.
 */
public final class CpuThreadPool implements AutoCloseable {

    /** Long enough to cover the single-threaded ops between two matmuls of a step, short enough to idle cheaply. */
    public static final long DEFAULT_SPIN_NANOS = 200_000;

    private final int threads;
    private final long spinNanos;
    private final Worker[] workers;                        // workers[i] runs chunk i + 1
    private final AtomicBoolean busy = new AtomicBoolean();

    // Written by the caller before the volatile generation bump, read by workers after seeing it.
    private RangeTask task;
    private int n;
    private int grain;                                     // 0: one static chunk per thread; else claimed chunks
    private final AtomicInteger cursor = new AtomicInteger();

    private volatile long generation;
    private volatile boolean closed;
    private volatile boolean resting;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Throwable failure;

    public CpuThreadPool(int threads) {
        this(threads, DEFAULT_SPIN_NANOS);
    }

    public CpuThreadPool(int threads, long spinNanos) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.spinNanos = spinNanos;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].thread.start();
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Tells idle workers to park now instead of spinning until the next call: for the caller's long serial stretches
     * (between engine steps: sampling, streaming the tokens out), where a spinning worker would hold a core that
     * the server's own threads need. The next call wakes them (one unpark each, a few microseconds).
     */
    public void rest() {
        resting = true;
    }

    /** Splits [0, n) into contiguous chunks, one per thread (caller runs one), returns when all are done. */
    public void parallelFor(int n, RangeTask task) {
        dispatch(n, 0, task);
    }

    /**
     * As {@link #parallelFor}, but threads claim chunks of {@code grain} indices until none are left, so a thread
     * that is descheduled mid-call (a shared machine, the server's own threads) delays only its current chunk
     * instead of leaving the others waiting for its whole share. Costs an atomic per chunk: for calls with
     * enough work per chunk (batched matmuls, per-row attention), not for decode matvecs.
     */
    public void parallelForDynamic(int n, int grain, RangeTask task) {
        if (grain < 1) {
            throw new IllegalArgumentException("grain must be >= 1, got " + grain);
        }
        dispatch(n, grain, task);
    }

    private void dispatch(int n, int grain, RangeTask task) {
        if (n <= 0) {
            return;
        }
        if (closed) {
            throw new IllegalStateException("CpuThreadPool is closed");
        }
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("CpuThreadPool serves one caller at a time (concurrent or nested parallelFor)");
        }
        try {
            if (threads == 1 || n == 1 || (grain > 0 && n <= grain)) {
                task.run(0, n);
                return;
            }
            this.task = task;
            this.n = n;
            this.grain = grain;
            cursor.set(0);
            failure = null;
            pending.set(workers.length);
            resting = false;
            generation = generation + 1;               // publishes task and n
            for (Worker w : workers) {
                if (w.parked) {                        // unpark is a syscall: only for workers that stopped spinning
                    LockSupport.unpark(w.thread);
                }
            }
            Throwable own = null;
            try {
                if (grain > 0) {
                    claimChunks(task, n, grain);
                } else {
                    int end = chunkEnd(n, 1);
                    if (end > 0) {                     // n < threads leaves some chunks empty
                        task.run(0, end);
                    }
                }
            } catch (Throwable t) {
                own = t;
            }
            awaitWorkers();
            this.task = null;
            Throwable workerFailure = failure;
            if (own != null || workerFailure != null) {
                Throwable first = own != null ? own : workerFailure;
                if (own != null && workerFailure != null) {
                    first.addSuppressed(workerFailure);
                }
                if (first instanceof RuntimeException re) throw re;
                if (first instanceof Error e) throw e;
                throw new IllegalStateException(first);
            }
        } finally {
            busy.set(false);
        }
    }

    private void claimChunks(RangeTask task, int n, int grain) {
        int from;
        while ((from = cursor.getAndAdd(grain)) < n) {
            task.run(from, Math.min(n, from + grain));
        }
    }

    private int chunkEnd(int n, int chunk) {
        return (int) ((long) n * chunk / threads);
    }

    /**
     * The caller's chunk is as long as the others, so a short spin is usually all it takes; after ~tens of
     * microseconds a worker is probably descheduled (more threads than free cores), and yielding lets it run.
     */
    private void awaitWorkers() {
        int spins = 0;
        while (pending.get() != 0) {
            if (++spins < 1_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        generation = generation + 1;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
        for (Worker w : workers) {
            try {
                w.thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private final class Worker implements Runnable {
        final int chunk;
        final Thread thread;
        volatile boolean parked;

        Worker(int chunk) {
            this.chunk = chunk;
            this.thread = Thread.ofPlatform().daemon(true).name("nemotron-cpu-" + chunk).unstarted(this);
        }

        @Override
        public void run() {
            // NOTE: 0, not a read of generation: a call may bump it before this thread first runs.
            long seen = 0;
            while (true) {
                seen = awaitGeneration(seen);
                if (closed) {
                    return;
                }
                try {
                    int total = n;
                    if (grain > 0) {
                        claimChunks(task, total, grain);
                    } else {
                        int from = chunkEnd(total, chunk);
                        int to = chunkEnd(total, chunk + 1);
                        if (from < to) {
                            task.run(from, to);
                        }
                    }
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    pending.decrementAndGet();        // publishes this chunk's writes to the caller
                }
            }
        }

        /**
         * Spins for spinNanos (none once the caller rests), then parks; the parked flag and the re-check pair with
         * the caller's unpark.
         */
        private long awaitGeneration(long seen) {
            long g;
            long spinStart = System.nanoTime();
            int spins = 0;
            while ((g = generation) == seen) {
                if (!resting && ((++spins & 63) != 0 || System.nanoTime() - spinStart < spinNanos)) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                while ((g = generation) == seen) {
                    LockSupport.park(CpuThreadPool.this);
                }
                parked = false;
                return g;
            }
            return g;
        }
    }
}
