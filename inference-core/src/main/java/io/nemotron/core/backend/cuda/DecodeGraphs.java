package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.CudaException.check;

import io.nemotron.core.backend.StepBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.JCudaDriver;

/**
 * The decode graphs of one backend over one KV pool (the graphs hold its addresses): the fixed input buffer they read
 * ({@link DecodeGraphInputs}, staged through pinned memory), the split-KV partials they write, and one instantiated
 * graph per bucket, captured the first time a step of that bucket runs. Owned by {@link CudaBackend}, used from its
 * step thread only.
 */
final class DecodeGraphs implements AutoCloseable {
    private final CudaKvPool pool;
    private final GraphBuckets buckets;
    private final DecodeGraphInputs layout;
    private final DeviceBuffer inputs;
    private final PinnedHost staging;
    private final DeviceBuffer partials;      // null when no bucket splits (or the model has no FULL layer)
    private final int maxPartitions;          // split-KV partitions of the longest context the pool holds
    private final Map<Integer, CUgraphExec> execs = new TreeMap<>();
    private long generation;                  // the communicator generation the graphs were captured in

    /**
     * Sized for {@code pool}: block tables as long as the longest sequence the pool (and the model's positions) can
     * hold, and split-KV partials for that context at {@code partitionTokens} per partition for buckets of up to
     * {@code splitMaxRows} rows with {@code heads} query heads of {@code headDim}.
     */
    DecodeGraphs(CudaDevice device, CudaStream stream, CudaKvPool pool, GraphBuckets buckets, int maxPositions,
                 int heads, int headDim, int partitionTokens, int splitMaxRows, boolean hasFullAttention) {
        this.pool = pool;
        this.buckets = buckets;
        long poolTokens = (long) pool.numBlocks() * pool.blockSize();
        int maxContext = (int) Math.min(maxPositions, poolTokens);
        this.layout = new DecodeGraphInputs(buckets.largest(), Math.ceilDiv(maxContext, pool.blockSize()),
                pool.blockSize());
        this.maxPartitions = Math.ceilDiv(maxContext, partitionTokens);
        List<AutoCloseable> made = new ArrayList<>();
        try {
            long bytes = (long) layout.length * Integer.BYTES;
            this.inputs = device.allocate(bytes, "decode graph inputs (" + layout.capacity + " rows, block tables of "
                    + layout.stride + ")");
            made.add(inputs);
            inputs.zeroAsync(0, bytes, stream);   // pad rows read table entries no step wrote yet: block 0, a valid one
            this.staging = new PinnedHost(bytes, "decode graph inputs");
            made.add(staging);
            layout.writeConstants(staging.ints());
            int splitRows = Math.min(splitMaxRows, buckets.largest());
            this.partials = hasFullAttention
                    ? device.allocate((long) splitRows * heads * maxPartitions * (headDim + 2) * Float.BYTES,
                            "split-KV partials of the decode graphs")
                    : null;
        } catch (RuntimeException | Error e) {
            for (int i = made.size() - 1; i >= 0; i--) {
                try {
                    made.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    CudaKvPool pool() {
        return pool;
    }

    /** The bucket a graph runs {@code b} in, or -1 when {@code b} is not a decode step a graph can run. */
    int bucketFor(StepBatch b) {
        return layout.fits(b) ? buckets.bucketOf(b.rows) : -1;
    }

    /** Packs {@code b} for a graph of {@code bucket} rows and copies it down in {@code stream}'s order. */
    void stage(StepBatch b, int bucket, CudaStream stream) {
        staging.awaitCopies();   // the previous step's copy from the staging memory has run
        int ints = layout.pack(b, bucket, staging.ints());
        inputs.uploadAsync(0, staging, 0, (long) ints * Integer.BYTES, stream);
        staging.copiesEnqueued(stream);
    }

    DecodeGraphInputs layout() {
        return layout;
    }

    /** The device address of the int at {@code intOffset} of the inputs. */
    long input(int intOffset) {
        return inputs.address() + (long) intOffset * Integer.BYTES;
    }

    DeviceBuffer partials() {
        return partials;
    }

    int maxPartitions() {
        return maxPartitions;
    }

    /** The graph of {@code bucket}, or null before its first capture. */
    CUgraphExec exec(int bucket) {
        return execs.get(bucket);
    }

    /**
     * Records what {@code forward} issues on {@code stream} into a graph and instantiates it as {@code bucket}'s.
     * Nothing runs during the capture. When {@code forward} or the capture fails, the capture is ended and its partial
     * graph destroyed before the failure is rethrown, so the stream is usable again.
     */
    CUgraphExec capture(int bucket, CudaStream stream, Runnable forward) {
        stream.beginCapture();
        CUgraph graph;
        try {
            forward.run();
        } catch (RuntimeException | Error e) {
            try {
                CUgraph partial = stream.endCapture();
                JCudaDriver.cuGraphDestroy(partial);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);   // an invalidated capture ends with an error: the stream is free anyway
            }
            throw e;
        }
        graph = stream.endCapture();
        try {
            CUgraphExec exec = new CUgraphExec();
            check(JCudaDriver.cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate(decode graph of " + bucket + " rows)");
            execs.put(bucket, exec);
            return exec;
        } finally {
            JCudaDriver.cuGraphDestroy(graph);   // the instantiated exec keeps what it needs
        }
    }

    /** Launches {@code bucket}'s graph on {@code stream}; its failure (or a fault of its work) fails the step. */
    void replay(int bucket, CudaStream stream) {
        CUgraphExec exec = execs.get(bucket);
        if (exec == null) {
            throw new IllegalStateException("no decode graph captured for " + bucket + " rows");
        }
        check(JCudaDriver.cuGraphLaunch(exec, stream.handle()), "cuGraphLaunch(decode graph of " + bucket + " rows)");
    }

    /** Graphs captured in another communicator generation hold NCCL calls on a destroyed communicator. */
    void checkGeneration(long current) {
        if (current != generation) {
            clear();
            generation = current;
        }
    }

    /** Destroys every graph (they are captured again on demand): after a failed step, or a new communicator. */
    void clear() {
        RuntimeException first = null;
        for (CUgraphExec e : execs.values()) {
            try {
                check(JCudaDriver.cuGraphExecDestroy(e), "cuGraphExecDestroy(decode graph)");
            } catch (RuntimeException ex) {
                if (first == null) {
                    first = ex;
                }
            }
        }
        execs.clear();
        if (first != null) {
            throw first;
        }
    }

    /** The buckets whose graphs are captured now, ascending. */
    int[] captured() {
        return execs.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public void close() {
        RuntimeException first = null;
        List<AutoCloseable> all = new ArrayList<>();
        all.add(this::clear);
        all.add(staging);
        all.add(inputs);
        if (partials != null) {
            all.add(partials);
        }
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException re ? re : new IllegalStateException(e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
