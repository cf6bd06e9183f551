package io.nemotron.core.runtime;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.CommunicatorException;
import io.nemotron.core.backend.DeviceCommunicator;
import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.cuda.CudaBackend;
import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.backend.cuda.CudaException;
import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.parallel.RankFactory;
import io.nemotron.core.parallel.ShardPlan;
import io.nemotron.core.parallel.TensorParallelTransformer;
import io.nemotron.core.parallel.nccl.Nccl;
import io.nemotron.core.parallel.nccl.NcclException;
import io.nemotron.core.parallel.nccl.NcclGroup;
import io.nemotron.core.parallel.nccl.NcclResult;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.LoadProgress;
import java.lang.foreign.Arena;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * GPU ranks: rank r on CUDA device {@code devices[r]} with its own {@link CudaBackend}, joined by NCCL
 * ({@link NcclGroup#initAll}). An aborted NCCL communicator cannot be used again, so {@link #reset()} after an abort
 * makes a new group; each backend holds a {@link Rebound} communicator that then forwards to the new group's member.
 * One rank needs no NCCL at all.
 */
public final class CudaRanks implements RankFactory {
    private final CudaDevice[] devices;
    private final int[] ordinals;
    private final int maxRows;
    private final CudaGraphs graphs;
    private final KvCacheFormat kvFormat;    // null: BF16 K/V (the backends' default)
    private final Nccl nccl;                 // null for one rank
    private final Rebound[] members;
    private final LoadProgress progress;     // each rank's upload is a phase of it
    private volatile NcclGroup group;

    private CudaRanks(CudaDevice[] devices, int[] ordinals, int maxRows, CudaGraphs graphs, KvCacheFormat kvFormat,
                      Nccl nccl, LoadProgress progress) {
        this.progress = progress;
        this.devices = devices;
        this.ordinals = ordinals;
        this.maxRows = maxRows;
        this.graphs = graphs;
        this.kvFormat = kvFormat;
        this.nccl = nccl;
        this.members = new Rebound[devices.length];
        for (int r = 0; r < devices.length; r++) {
            members[r] = new Rebound(r, devices.length);
        }
    }

    /**
     * Opens devices {@code first .. first + ranks - 1} and, for more than one rank, loads NCCL and joins them; fails
     * (closing what it opened) when a device, NCCL or the communicators cannot be had.
     */
    public static CudaRanks open(int first, int ranks, int maxRows) {
        return open(first, ranks, maxRows, CudaGraphs.on());
    }

    /** As above, each rank's backend running decode steps as {@code graphs} says. */
    public static CudaRanks open(int first, int ranks, int maxRows, CudaGraphs graphs) {
        return open(first, ranks, maxRows, graphs, null);
    }

    /**
     * As above, each rank's backend storing K/V as {@code kvFormat} says ({@code --kv-cache-dtype}: BF16, or FP8 with
     * the checkpoint's per-layer scales; null for BF16). An FP32 cache is refused here, naming the flag, before any
     * device is opened.
     */
    public static CudaRanks open(int first, int ranks, int maxRows, CudaGraphs graphs, KvCacheFormat kvFormat) {
        return open(first, ranks, maxRows, graphs, kvFormat, LoadProgress.start("model"));
    }

    /** As above, each rank's weight upload counted in {@code progress} as phase "upload" of that rank. */
    public static CudaRanks open(int first, int ranks, int maxRows, CudaGraphs graphs, KvCacheFormat kvFormat,
                                 LoadProgress progress) {
        if (kvFormat != null) {
            CudaBackend.requireSupported(kvFormat.dtype());
        }
        if (ranks < 1) {
            throw new IllegalArgumentException("tensor-parallel size must be >= 1, got " + ranks);
        }
        CudaDevice[] devices = new CudaDevice[ranks];
        int[] ordinals = new int[ranks];
        try {
            for (int r = 0; r < ranks; r++) {
                ordinals[r] = first + r;
                devices[r] = CudaDevice.open(first + r);
            }
            CudaRanks made = new CudaRanks(devices, ordinals, maxRows, graphs, kvFormat,
                    ranks > 1 ? Nccl.load() : null, progress);
            made.join();
            return made;
        } catch (RuntimeException | Error e) {
            for (CudaDevice d : devices) {
                if (d != null) {
                    try {
                        d.close();
                    } catch (RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            throw e;
        }
    }

    /**
     * A model split over GPU ranks: rank r on CUDA device r with a {@link CudaBackend} over its shard (uploaded from the
     * mapping and the column slices copied into {@code arena}), joined by NCCL.
     */
    public static TensorParallelTransformer split(ModelConfig config, ModelWeights full, int tensorParallel,
                                                  int maxRows, Arena arena) {
        ShardPlan.of(config, tensorParallel);
        return TensorParallelTransformer.of(config, full, open(0, tensorParallel, maxRows), arena);
    }

    /** Rank {@code rank}'s device. */
    public CudaDevice device(int rank) {
        return devices[rank];
    }

    @Override
    public int ranks() {
        return devices.length;
    }

    @Override
    public Backend open(int rank, ModelConfig config, ModelWeights shard, int vocabStart) {
        KvCacheFormat format = kvFormat != null ? kvFormat : KvCacheFormat.of(KvCacheDtype.BF16, config.numLayers());
        return new CudaBackend(config, shard, devices[rank], maxRows, devices.length > 1 ? members[rank] : null,
                vocabStart, graphs, format, progress.byteProgress("upload", rank));
    }

    /**
     * One NCCL communicator per device (ncclCommInitAll), made on a thread of its own: NCCL may change the calling
     * thread's current device, and the ranks' threads track theirs ({@link CudaDevice#ensureCurrent()}).
     */
    private void join() {
        if (nccl == null) {
            return;
        }
        NcclGroup g;
        try {
            g = CompletableFuture.supplyAsync(() -> NcclGroup.initAll(nccl, ordinals),
                    task -> Thread.ofPlatform().name("nccl-init").start(task)).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re
                    : new IllegalStateException("NCCL initialisation failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while initialising NCCL", e);
        }
        for (int r = 0; r < members.length; r++) {
            members[r].rebind(g.member(r));
        }
        group = g;
    }

    /**
     * Also an NCCL collective that the group's abort broke out of (ncclRemoteError), and a decode graph's launch that
     * failed once the group was aborted: the graph's captured all-reduces were waiting for the failed rank.
     */
    @Override
    public boolean brokenOut(Throwable failure) {
        if (failure instanceof CommunicatorException
                || failure instanceof NcclException e && e.code() == NcclResult.REMOTE_ERROR.code()) {
            return true;
        }
        NcclGroup g = group;
        return failure instanceof CudaException e && e.operation().startsWith("cuGraphLaunch") && g != null
                && g.aborted();
    }

    @Override
    public void abort() {
        NcclGroup g = group;
        if (g != null) {
            g.abort();
        }
    }

    /** After an abort the NCCL group is gone: a new one is made (every rank has returned from the failed step). */
    @Override
    public void reset() {
        NcclGroup g = group;
        if (g != null && g.aborted()) {
            g.close();
            group = null;
            join();
        }
    }

    @Override
    public void close() {
        RuntimeException first = null;
        NcclGroup g = group;
        group = null;
        if (g != null) {
            try {
                g.close();
            } catch (RuntimeException e) {
                first = e;
            }
        }
        for (CudaDevice d : devices) {
            try {
                d.close();
            } catch (RuntimeException e) {
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

    /** A rank's communicator that survives a new NCCL group: it forwards to the current group's member. */
    private static final class Rebound implements DeviceCommunicator {
        private final int rank;
        private final int size;
        private volatile DeviceCommunicator to;
        private volatile long generation;

        Rebound(int rank, int size) {
            this.rank = rank;
            this.size = size;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        /** Forwards to {@code member} of a new group from now on; graphs captured with the old one are stale. */
        void rebind(DeviceCommunicator member) {
            to = member;
            generation++;   // written by the one thread that makes groups, while no rank runs a step
        }

        @Override
        public long generation() {
            return generation;
        }

        @Override
        public void allReduceSum(long buf, long count, DType dtype, long stream) {
            live().allReduceSum(buf, count, dtype, stream);
        }

        @Override
        public void allGather(long send, long recv, long count, DType dtype, long stream) {
            live().allGather(send, recv, count, dtype, stream);
        }

        private DeviceCommunicator live() {
            DeviceCommunicator c = to;
            if (c == null) {
                throw new CommunicatorException("rank " + rank + ": no NCCL group (a failed step could not make a new"
                        + " one)", null);
            }
            return c;
        }
    }
}
