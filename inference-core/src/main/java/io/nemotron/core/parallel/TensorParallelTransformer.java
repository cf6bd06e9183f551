package io.nemotron.core.parallel;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.Transformer;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A model split over tensor-parallel ranks: every rank runs the same {@link Transformer} code over its own shard and
 * backend, and the backends' all-reduces join the partial results. Each step runs rank 0 on the calling (engine)
 * thread and the others on one thread each; the vocab-parallel logits are gathered into the full vocabulary. A
 * failure on any rank aborts the group's collectives, so the step fails on every rank and the next step starts clean.
 */
public final class TensorParallelTransformer implements ForwardPass, AutoCloseable {
    private final ModelConfig config;
    private final ShardPlan plan;
    private final Transformer[] ranks;
    private final InProcessGroup group;
    private final ExecutorService rankThreads;
    private float[][] rankLogits;

    private TensorParallelTransformer(ShardPlan plan, Transformer[] ranks, InProcessGroup group) {
        this.config = plan.config();
        this.plan = plan;
        this.ranks = ranks;
        this.group = group;
        this.rankThreads = Executors.newFixedThreadPool(Math.max(1, ranks.length - 1),
                Thread.ofPlatform().name("tp-rank-", 1).daemon(true).factory());
        this.rankLogits = new float[ranks.length][0];
    }

    /**
     * CPU ranks: each gets its shard of {@code full} (views of the mapping, plus column slices copied into
     * {@code arena}) and a {@link CpuBackend} with {@code threadsPerRank} compute threads.
     */
    public static TensorParallelTransformer cpu(ModelConfig config, ModelWeights full, int tensorParallel,
                                                int threadsPerRank, int maxRows, Arena arena) {
        ShardPlan plan = ShardPlan.of(config, tensorParallel);
        InProcessGroup group = new InProcessGroup(tensorParallel);
        Transformer[] ranks = new Transformer[tensorParallel];
        for (int r = 0; r < tensorParallel; r++) {
            ModelConfig rankConfig = plan.rankConfig(r);
            ModelWeights w = WeightShards.forRank(full, plan, r, arena);
            CpuBackend backend = new CpuBackend(rankConfig, w.embedTokens(), plan.vocab(r).from(), group.member(r),
                    threadsPerRank, maxRows);
            ranks[r] = new Transformer(rankConfig, w, backend, plan.hidden(r).from());
        }
        return new TensorParallelTransformer(plan, ranks, group);
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
        List<Future<?>> others = new ArrayList<>(ranks.length - 1);
        for (int r = 1; r < ranks.length; r++) {
            int rank = r;
            others.add(rankThreads.submit(() -> {
                try {
                    ranks[rank].forward(batch, pools[rank], rankLogits[rank]);
                } catch (RuntimeException | Error e) {
                    group.abort();   // the others must not wait for this rank in a collective
                    throw e;
                }
            }));
        }
        List<Throwable> failures = new ArrayList<>();
        try {
            ranks[0].forward(batch, pools[0], rankLogits[0]);
        } catch (RuntimeException | Error e) {
            failures.add(e);
            group.abort();   // release the ranks waiting for rank 0 in a collective
        }
        for (Future<?> f : others) {
            try {
                f.get();
            } catch (ExecutionException e) {
                failures.add(e.getCause());
                group.abort();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures.add(e);
                group.abort();
            }
        }
        if (!failures.isEmpty()) {
            group.reset();   // every rank has returned: the next step starts on a fresh barrier
            // report the rank that really failed, not the ranks its failure broke out of a collective
            Throwable cause = failures.stream().filter(t -> !(t instanceof CommunicatorException)).findFirst()
                    .orElse(failures.getFirst());
            throw cause instanceof RuntimeException re ? re
                    : new IllegalStateException("tensor-parallel step failed: " + cause, cause);
        }
        gatherLogits(n, logits);
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
        rankThreads.shutdownNow();
        for (Transformer t : ranks) {
            t.backend().close();
        }
    }
}
