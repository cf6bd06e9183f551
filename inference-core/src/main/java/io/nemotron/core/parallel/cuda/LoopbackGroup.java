package io.nemotron.core.parallel.cuda;

import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.backend.cuda.CudaModule;
import io.nemotron.core.backend.CommunicatorException;
import io.nemotron.core.backend.DeviceCommunicator;
import io.nemotron.core.parallel.DeviceGroup;
import io.nemotron.core.weights.DType;
import java.util.concurrent.Phaser;

/**
 * Several tensor-parallel ranks on ONE GPU, for testing the tensor-parallel CUDA path where one GPU is all there is
 * (NCCL refuses two ranks on one device). The ranks are threads sharing the GPU's one context, each with its own
 * buffers. A collective works like {@link io.nemotron.core.parallel.InProcessGroup}'s: every rank synchronises the
 * context (so its work on any stream is done), publishes its buffer address and waits at a barrier; the last rank to
 * arrive runs one kernel over all ranks' buffers (loopback.cu: the sum in rank order, identical bits everywhere) and
 * synchronises again before anyone is released. Slow and simple on purpose: it is a test double, not a transport.
 *
 * <p>Failures: a collective whose kernel fails, or whose ranks disagree on count or dtype, fails on every rank with a
 * {@link CommunicatorException} carrying the cause, and the group goes on. {@link #abort()} (a rank failed before its
 * collective) terminates the barrier as {@code InProcessGroup}'s does: the ranks waiting at it and every collective
 * after it fail at once (a rank still computing reaches its next collective after the abort), until
 * {@link #reset()}. Waiting is not interruptible; abort is how a rank is released.
 */
public final class LoopbackGroup implements DeviceGroup {

    /** What the collectives do on the device: CUDA in production ({@link #onGpu}), host arrays in unit tests. */
    public interface Kernels extends AutoCloseable {
        /** Waits for all queued work in the shared context (any stream); {@code after} names it in errors. */
        void synchronize(String after);

        /** Sums element-wise in rank order into every rank's buffer, then waits for it. */
        void allReduceSum(long[] bufs, long count, DType dtype);

        /** Rank r's send lands at recv + r * count on every rank, then waits for it. */
        void allGather(long[] sends, long[] recvs, long count, DType dtype);

        @Override
        void close();
    }

    private enum Kind { ALL_REDUCE, ALL_GATHER }

    private record Call(Kind kind, long send, long recv, long count, DType dtype) {}

    private final int size;
    private final Kernels kernels;
    private final Call[] calls;
    private volatile Phaser barrier;
    // of the collective the barrier just ran: written by the last rank before the others are released, read by each
    // rank before it can arrive at the next collective
    private Throwable failure;

    public LoopbackGroup(int size, Kernels kernels) {
        if (size < 1) {
            throw new IllegalArgumentException("group size must be >= 1, got " + size);
        }
        this.size = size;
        this.kernels = kernels;
        this.calls = new Call[size];
        this.barrier = newBarrier();
    }

    /** The last rank to arrive runs the collective before any rank is released. */
    private Phaser newBarrier() {
        return new Phaser(size) {
            @Override
            protected boolean onAdvance(int phase, int parties) {
                failure = runCollective();
                return false;   // only abort() terminates it
            }
        };
    }

    /**
     * {@code size} ranks on {@code device}, whose context every rank thread must make current
     * ({@link CudaDevice#makeCurrent()}) before its first collective. {@code module} must hold loopback.cu's kernels
     * ({@link CudaDevice#loadKernels()} loads them all).
     */
    public static LoopbackGroup onGpu(CudaDevice device, CudaModule module, int size) {
        return new LoopbackGroup(size, new CudaLoopbackKernels(device, module, size));
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public DeviceCommunicator member(int rank) {
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " outside [0, " + size + ")");
        }
        return new Member(rank);
    }

    /** Fails the ranks waiting in a collective and every later collective (another rank failed), until reset. */
    @Override
    public void abort() {
        barrier.forceTermination();
    }

    /** Opens the next step after an abort; call once every rank has returned from the aborted one. */
    @Override
    public void reset() {
        if (barrier.isTerminated()) {
            barrier = newBarrier();
        }
    }

    /** Ranks now waiting in a collective for the others (tests abort once they all wait). */
    public int waitingRanks() {
        return barrier.getArrivedParties();
    }

    @Override
    public boolean reusableAfterAbort() {
        return true;
    }

    @Override
    public void close() {
        kernels.close();
    }

    /**
     * Runs in the barrier's advance on the last rank to arrive; returns what failed, or null. It must not throw: the
     * barrier would never release the others.
     */
    private Throwable runCollective() {
        try {
            Call first = calls[0];
            for (int r = 1; r < size; r++) {
                Call c = calls[r];
                if (c.kind != first.kind || c.count != first.count || c.dtype != first.dtype) {
                    throw new IllegalArgumentException("ranks disagree: rank 0 called " + describe(first) + ", rank " + r
                            + " called " + describe(c));
                }
            }
            long[] sends = new long[size];
            long[] recvs = new long[size];
            for (int r = 0; r < size; r++) {
                sends[r] = calls[r].send;
                recvs[r] = calls[r].recv;
            }
            switch (first.kind) {
                case ALL_REDUCE -> kernels.allReduceSum(recvs, first.count, first.dtype);
                case ALL_GATHER -> kernels.allGather(sends, recvs, first.count, first.dtype);
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    private static String describe(Call c) {
        return (c.kind == Kind.ALL_REDUCE ? "allReduceSum(" : "allGather(") + c.count + " x " + c.dtype + ")";
    }

    private final class Member implements DeviceCommunicator {
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
        public void allReduceSum(long buf, long count, DType dtype, long stream) {
            collective(new Call(Kind.ALL_REDUCE, buf, buf, count, dtype));
        }

        @Override
        public void allGather(long send, long recv, long count, DType dtype, long stream) {
            collective(new Call(Kind.ALL_GATHER, send, recv, count, dtype));
        }

        // The stream is not needed: synchronising the shared context before and after orders the collective after
        // everything queued on any stream, and everything queued later after it.
        private void collective(Call call) {
            if (call.count < 0) {
                throw new IllegalArgumentException("rank " + rank + ": negative count " + call.count);
            }
            if (call.dtype != DType.F32 && call.dtype != DType.BF16) {
                throw new IllegalArgumentException("rank " + rank + ": the loopback communicator handles F32 and BF16, not "
                        + call.dtype);
            }
            Phaser b = barrier;
            if (b.isTerminated()) {   // at once: before waiting for the device, and also for a lone rank
                throw stepFailed();
            }
            if (size == 1 && call.kind == Kind.ALL_REDUCE) {
                return;   // the sum over one rank is its own buffer
            }
            kernels.synchronize("rank " + rank + "'s work before a loopback " + describe(call));
            calls[rank] = call;
            if (b.arriveAndAwaitAdvance() < 0) {   // terminated: abort() ran
                throw stepFailed();
            }
            Throwable f = failure;
            if (f != null) {
                throw new CommunicatorException("rank " + rank + ": loopback " + describe(call) + " failed: "
                        + f.getMessage(), f);
            }
        }

        private CommunicatorException stepFailed() {
            return new CommunicatorException("rank " + rank + ": another rank failed during the step");
        }
    }
}
