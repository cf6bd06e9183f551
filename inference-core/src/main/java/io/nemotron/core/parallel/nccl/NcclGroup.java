package io.nemotron.core.parallel.nccl;

import io.nemotron.core.backend.CommunicatorException;
import io.nemotron.core.backend.DeviceCommunicator;
import io.nemotron.core.parallel.DeviceGroup;
import io.nemotron.core.weights.DType;

/**
 * Tensor-parallel GPU ranks of one process joined by NCCL: one communicator per GPU, each used by that GPU's rank
 * thread. Two ways in: {@link #initAll} makes every communicator from one thread (ncclCommInitAll), or
 * {@link #create} + {@link #join} lets each rank thread make its own (ncclCommInitRank with a shared unique id,
 * which blocks until all ranks have joined).
 *
 * <p>Abort: {@link #abort()} calls ncclCommAbort on every communicator, which stops kernels still waiting for a
 * failed peer, so the other ranks' stream synchronisations return instead of hanging; their later calls throw
 * {@link CommunicatorException}. An aborted NCCL communicator is gone: the group must be created again.
 */
public final class NcclGroup implements DeviceGroup {
    private final Nccl nccl;
    private final int size;
    private final NcclUniqueId id;
    private final long[] comms;
    private volatile boolean aborted;
    private boolean closed;

    private NcclGroup(Nccl nccl, int size, NcclUniqueId id, long[] comms) {
        this.nccl = nccl;
        this.size = size;
        this.id = id;
        this.comms = comms;
    }

    /** All ranks from the calling thread: rank i on CUDA device {@code devices[i]} (ncclCommInitAll). */
    public static NcclGroup initAll(Nccl nccl, int[] devices) {
        if (devices.length < 1) {
            throw new IllegalArgumentException("an NCCL group needs at least one GPU");
        }
        return new NcclGroup(nccl, devices.length, null, nccl.commInitAll(devices));
    }

    /** A group whose {@code size} ranks will each {@link #join} from their own thread. */
    public static NcclGroup create(Nccl nccl, int size) {
        if (size < 1) {
            throw new IllegalArgumentException("group size must be >= 1, got " + size);
        }
        return new NcclGroup(nccl, size, nccl.uniqueId(), new long[size]);
    }

    /**
     * Makes {@code rank}'s communicator on the calling thread's current CUDA context (make the rank's context current
     * first); blocks until every rank has joined.
     */
    public DeviceCommunicator join(int rank) {
        checkRank(rank);
        if (id == null) {
            throw new IllegalStateException("this group was made by ncclCommInitAll: every rank is already a member");
        }
        long comm = nccl.commInitRank(size, id, rank);
        synchronized (this) {
            if (comms[rank] != 0) {
                nccl.commDestroy(comm, who(rank));
                throw new IllegalStateException("rank " + rank + " joined twice");
            }
            comms[rank] = comm;
        }
        return new Member(rank);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public synchronized DeviceCommunicator member(int rank) {
        checkRank(rank);
        if (comms[rank] == 0) {
            throw new IllegalStateException("rank " + rank + " has not joined the NCCL group");
        }
        return new Member(rank);
    }

    /** The loaded library's version code (22304 = 2.23.4). */
    public int ncclVersion() {
        return nccl.version();
    }

    /**
     * Throws when NCCL found an error in the background on any rank (a peer or network failure that no call
     * returned): the check a rank waiting too long on its stream makes before deciding to abort.
     */
    public synchronized void checkAsyncErrors() {
        for (int r = 0; r < size; r++) {
            if (comms[r] == 0 || aborted) {
                continue;
            }
            int code = nccl.commAsyncError(comms[r], who(r));
            if (code != NcclResult.SUCCESS.code() && code != NcclResult.IN_PROGRESS.code()) {
                throw new NcclException(who(r) + "'s communicator (ncclCommGetAsyncError)", code, nccl.errorString(code));
            }
        }
    }

    @Override
    public void abort() {
        long[] toAbort;
        synchronized (this) {
            if (aborted || closed) {
                return;
            }
            aborted = true;
            toAbort = comms.clone();
        }
        NcclException first = null;
        for (int r = 0; r < size; r++) {
            if (toAbort[r] == 0) {
                continue;
            }
            try {
                nccl.commAbort(toAbort[r], who(r));
            } catch (NcclException e) {
                // keep aborting the others: a rank left running would hang its thread
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public boolean reusableAfterAbort() {
        return false;
    }

    public boolean aborted() {
        return aborted;
    }

    /** Nothing to do unless aborted; an aborted NCCL group cannot take another step. */
    @Override
    public void reset() {
        if (aborted) {
            throw new IllegalStateException("an aborted NCCL group cannot be reused: create a new one");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (aborted) {
            return;   // ncclCommAbort freed them
        }
        for (int r = 0; r < size; r++) {
            if (comms[r] != 0) {
                nccl.commDestroy(comms[r], who(r));
                comms[r] = 0;
            }
        }
    }

    private void checkRank(int rank) {
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("rank " + rank + " outside [0, " + size + ")");
        }
    }

    private String who(int rank) {
        return "rank " + rank + " of " + size;
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
            long comm = live();
            nccl.allReduce(buf, buf, count, NcclDataType.of(dtype), NcclRedOp.SUM, comm, stream, who(rank));
        }

        @Override
        public void allGather(long send, long recv, long count, DType dtype, long stream) {
            long comm = live();
            nccl.allGather(send, recv, count, NcclDataType.of(dtype), comm, stream, who(rank));
        }

        private long live() {
            if (aborted) {
                throw new CommunicatorException("rank " + rank + ": the NCCL group was aborted (another rank failed"
                        + " during the step); create a new group", null);
            }
            if (closed) {
                throw new IllegalStateException("rank " + rank + ": the NCCL group is closed");
            }
            return comms[rank];
        }
    }
}
