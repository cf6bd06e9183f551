package io.nemotron.core.parallel;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.CommunicatorException;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.ModelWeights;

/**
 * How a {@link TensorParallelTransformer} gets its ranks, the same way for every backend: the factory owns the ranks'
 * collectives (an {@link InProcessGroup} for CPU threads, NCCL for GPUs) and makes each rank's backend over that
 * rank's shard with that rank's communicator. {@code runtime.CpuRanks} and {@code runtime.CudaRanks} are the two.
 */
public interface RankFactory extends AutoCloseable {

    /** How many ranks the factory's collectives join. */
    int ranks();

    /**
     * Rank {@code rank}'s backend: {@code config} is the rank's ({@link ShardPlan#rankConfig}), {@code shard} its
     * weights ({@link WeightShards#forRank}), whose embedding and lm_head hold the token rows from {@code vocabStart}
     * on. Ranks may be opened concurrently, each from its own thread.
     */
    Backend open(int rank, ModelConfig config, ModelWeights shard, int vocabStart);

    /** A rank failed during the step: every rank's pending or later collective of the step fails instead of waiting. */
    void abort();

    /** Every rank has returned from an aborted step: the collectives are usable for the next step. */
    void reset();

    /**
     * Whether {@code failure} only says another rank failed: a collective the group's abort broke out of (so the step
     * reports the rank that really failed instead).
     */
    default boolean brokenOut(Throwable failure) {
        return failure instanceof CommunicatorException;
    }

    /** Releases the collectives (and devices) after the ranks' backends are closed. */
    @Override
    void close();
}
