package io.nemotron.core.parallel;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.ModelWeights;

/** CPU ranks: threads of this process joined by an {@link InProcessGroup}, each with its own {@link CpuBackend}. */
public final class CpuRanks implements RankFactory {
    private final InProcessGroup group;
    private final int threadsPerRank;
    private final int maxRows;

    public CpuRanks(int ranks, int threadsPerRank, int maxRows) {
        this.group = new InProcessGroup(ranks);
        this.threadsPerRank = threadsPerRank;
        this.maxRows = maxRows;
    }

    @Override
    public int ranks() {
        return group.size();
    }

    @Override
    public Backend open(int rank, ModelConfig config, ModelWeights shard, int vocabStart) {
        return new CpuBackend(config, shard.embedTokens(), vocabStart, group.member(rank), threadsPerRank, maxRows);
    }

    @Override
    public void abort() {
        group.abort();
    }

    @Override
    public void reset() {
        group.reset();
    }

    @Override
    public void close() {
    }
}
