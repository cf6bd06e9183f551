package io.nemotron.core.parallel;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.Transformer;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * A model split over tensor-parallel ranks: every rank runs the same {@link Transformer} code over its own shard and
 * backend, and the backends' all-reduces join the partial results. The ranks come from a {@link RankFactory} (CPU
 * threads or GPUs, whose communicators it owns). Each step runs rank 0 on the calling (engine) thread and every other
 * rank on a thread of its own; the vocab-parallel logits are gathered into the full vocabulary. A failure on any rank
 * aborts the group's collectives, so the step fails on every rank and the next step starts clean.
 */
public final class TensorParallelTransformer implements ForwardPass, AutoCloseable {
    private final ModelConfig config;
    private final ShardPlan plan;
    private final Transformer[] ranks;
    private final RankFactory group;
    private final ExecutorService[] rankThreads;   // [r] runs rank r >= 1; [0] is null (rank 0 runs on the caller)
    private float[][] rankLogits;

    private TensorParallelTransformer(ShardPlan plan, Transformer[] ranks, RankFactory group,
                                      ExecutorService[] rankThreads) {
        this.config = plan.config();
        this.plan = plan;
        this.ranks = ranks;
        this.group = group;
        this.rankThreads = rankThreads;
        this.rankLogits = new float[ranks.length][0];
    }

    /**
     * The ranks of {@code factory}, each with its shard of {@code full}; the result owns the factory (closed with it,
     * or here when a rank cannot be made). The shards are cut on the calling thread; every rank's backend is made on
     * that rank's own thread, all at once (weight uploads overlap).
     */
    public static TensorParallelTransformer of(ModelConfig config, ModelWeights full, RankFactory factory,
                                               Arena arena) {
        int n = factory.ranks();
        Transformer[] ranks = new Transformer[n];
        ExecutorService[] threads = new ExecutorService[n];
        List<Throwable> failures = new ArrayList<>();
        try {
            ShardPlan plan = ShardPlan.of(config, n);
            ModelConfig[] configs = new ModelConfig[n];
            ModelWeights[] shards = new ModelWeights[n];
            for (int r = 0; r < n; r++) {
                configs[r] = plan.rankConfig(r);
                shards[r] = WeightShards.forRank(full, plan, r, arena);
            }
            List<Future<?>> others = new ArrayList<>();
            for (int r = 1; r < n; r++) {
                int rank = r;
                threads[r] = Executors.newSingleThreadExecutor(
                        Thread.ofPlatform().name("tp-rank-" + r).daemon(true).factory());
                others.add(threads[r].submit(() -> ranks[rank] = rank(factory, plan, rank, configs[rank], shards[rank])));
            }
            try {
                ranks[0] = rank(factory, plan, 0, configs[0], shards[0]);
            } catch (RuntimeException | Error e) {
                failures.add(e);
            }
            for (Future<?> f : others) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    failures.add(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failures.add(e);
                }
            }
            if (failures.isEmpty()) {
                return new TensorParallelTransformer(plan, ranks, factory, threads);
            }
        } catch (RuntimeException | Error e) {
            failures.add(e);
        }
        Throwable first = failures.getFirst();
        for (Transformer t : ranks) {
            if (t != null) {
                try {
                    t.backend().close();
                } catch (RuntimeException e) {
                    first.addSuppressed(e);
                }
            }
        }
        for (ExecutorService e : threads) {
            if (e != null) {
                e.shutdownNow();
            }
        }
        try {
            factory.close();
        } catch (RuntimeException e) {
            first.addSuppressed(e);
        }
        if (first instanceof Error err) {
            throw err;
        }
        throw first instanceof RuntimeException re ? re : new IllegalStateException("a tensor-parallel rank failed", first);
    }

    private static Transformer rank(RankFactory factory, ShardPlan plan, int r, ModelConfig config, ModelWeights w) {
        Backend backend = factory.open(r, config, w, plan.vocab(r).from());
        try {
            return new Transformer(config, w, backend, plan.hidden(r).from());
        } catch (RuntimeException | Error e) {
            backend.close();
            throw e;
        }
    }

    public int tensorParallel() {
        return ranks.length;
    }

    /** Rank {@code r}'s forward pass (its config, weights and backend), for tests and sizing. */
    public Transformer rank(int r) {
        return ranks[r];
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public int maxRows() {
        return ranks[0].maxRows();
    }

    @Override
    public KvPool newKvPool(int numBlocks, int blockSize) {
        KvPool[] pools = new KvPool[ranks.length];
        for (int r = 0; r < ranks.length; r++) {
            pools[r] = ranks[r].newKvPool(numBlocks, blockSize);
        }
        return new ShardedKvPool(pools);
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
        long sum = 0;
        for (Transformer t : ranks) {
            sum += t.kvBytesPerBlock(blockSize);
        }
        return sum;
    }

    @Override
    public void forward(StepBatch batch, KvPool kv, float[] logits) {
        KvPool[] pools = ((ShardedKvPool) kv).ranks;
        int n = batch.numLogitRows;
        for (int r = 0; r < ranks.length; r++) {
            int need = n * plan.vocab(r).size();
            if (rankLogits[r].length < need) {
                rankLogits[r] = new float[need];
            }
        }
        onEveryRank(r -> ranks[r].forward(batch, pools[r], rankLogits[r]));
        gatherLogits(n, logits);
    }

    /**
     * The sampling step. Device backends gather the vocab-parallel logits among themselves and rank 0 samples (only
     * its ids come back); otherwise the ranks' logits are gathered here and the host sampling op runs.
     */
    @Override
    public void forward(StepBatch batch, KvPool kv, SamplingBatch sampling, SampledTokens out) {
        if (ranks[0].backend().samplesOnDevice()) {
            KvPool[] pools = ((ShardedKvPool) kv).ranks;
            onEveryRank(r -> ranks[r].forward(batch, pools[r], sampling, r == 0 ? out : null));
            return;
        }
        int vocab = config.vocabSize();
        float[] logits = out.hostLogits(batch.numLogitRows * vocab);
        forward(batch, kv, logits);
        out.sampleOnHost(logits, vocab, sampling);
    }

    /**
     * Runs {@code step} for rank 0 on the calling thread and for every other rank on its own thread, and waits for
     * all. A rank that fails aborts the group's collectives (the others must not wait for it), and the step then fails
     * with the first rank's own error once every rank has returned.
     */
    private void onEveryRank(IntConsumer step) {
        List<Future<?>> others = new ArrayList<>(ranks.length - 1);
        // the failure that came first in time: it aborted the group, so it is no consequence of the abort
        AtomicReference<Throwable> first = new AtomicReference<>();
        for (int r = 1; r < ranks.length; r++) {
            int rank = r;
            others.add(rankThreads[r].submit(() -> {
                try {
                    step.accept(rank);
                } catch (RuntimeException | Error e) {
                    first.compareAndSet(null, e);
                    abort(e);   // the others must not wait for this rank in a collective
                    throw e;
                }
            }));
        }
        List<Throwable> failures = new ArrayList<>();
        try {
            step.accept(0);
        } catch (RuntimeException | Error e) {
            first.compareAndSet(null, e);
            failures.add(e);
            abort(e);   // release the ranks waiting for rank 0 in a collective
        }
        for (Future<?> f : others) {
            try {
                f.get();
            } catch (ExecutionException e) {
                failures.add(e.getCause());
                abort(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures.add(e);
                abort(e);
            }
        }
        if (!failures.isEmpty()) {
            // report the rank that really failed, not the ranks its failure broke out of a collective: the first
            // failure in time unless the group says it was itself broken out (NCCL saw a peer fail first); a rank
            // that entered a collective just as another rank aborted the group fails too, later, on a dead handle
            Throwable earliest = first.get();
            Throwable cause = earliest != null && failures.contains(earliest) && !group.brokenOut(earliest) ? earliest
                    : failures.stream().filter(t -> !group.brokenOut(t)).findFirst().orElse(failures.getFirst());
            try {
                group.reset();   // every rank has returned: the next step starts on fresh collectives
            } catch (RuntimeException e) {
                cause.addSuppressed(e);   // the next step fails too, on every rank, without waiting
            }
            throw cause instanceof RuntimeException re ? re
                    : new IllegalStateException("tensor-parallel step failed: " + cause, cause);
        }
    }

    /** Aborts the group's collectives; a failure to abort is kept with the rank's own failure. */
    private void abort(Throwable cause) {
        try {
            group.abort();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    /** Rank r computed logits for its vocab range: place them into the full rows. */
    private void gatherLogits(int rows, float[] logits) {
        int vocab = config.vocabSize();
        for (int r = 0; r < ranks.length; r++) {
            ShardPlan.Range v = plan.vocab(r);
            for (int i = 0; i < rows; i++) {
                System.arraycopy(rankLogits[r], i * v.size(), logits, i * vocab + v.from(), v.size());
            }
        }
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (ExecutorService e : rankThreads) {
            if (e != null) {
                e.shutdownNow();
            }
        }
        for (Transformer t : ranks) {
            try {
                t.backend().close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        try {
            group.close();
        } catch (RuntimeException e) {
            if (first == null) {
                first = e;
            } else {
                first.addSuppressed(e);
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
