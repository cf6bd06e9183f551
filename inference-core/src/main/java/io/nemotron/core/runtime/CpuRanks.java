package io.nemotron.core.runtime;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.parallel.InProcessGroup;
import io.nemotron.core.parallel.RankFactory;
import io.nemotron.core.parallel.ShardPlan;
import io.nemotron.core.parallel.TensorParallelTransformer;
import io.nemotron.core.weights.LoadProgress;
import java.lang.foreign.Arena;

/** CPU ranks: threads of this process joined by an {@link InProcessGroup}, each with its own {@link CpuBackend}. */
public final class CpuRanks implements RankFactory {
    private final InProcessGroup group;
    private final int threadsPerRank;
    private final int maxRows;
    private final KvCacheFormat kvFormat;   // every rank's cache: kv heads are split or replicated, layers are not
    private final LoadProgress progress;    // each rank's first-use copies are a phase of it; null: not counted

    /** Ranks with an FP32 KV cache. */
    public CpuRanks(int ranks, int threadsPerRank, int maxRows) {
        this(ranks, threadsPerRank, maxRows, null);
    }

    /** Ranks whose KV caches store {@code kvFormat} (null: FP32). */
    public CpuRanks(int ranks, int threadsPerRank, int maxRows, KvCacheFormat kvFormat) {
        this(ranks, threadsPerRank, maxRows, kvFormat, null);
    }

    /** As above, each rank's first-use copies of its shard counted in {@code progress} as phase "pack" of that rank. */
    public CpuRanks(int ranks, int threadsPerRank, int maxRows, KvCacheFormat kvFormat, LoadProgress progress) {
        this.progress = progress;
        this.group = new InProcessGroup(ranks);
        this.threadsPerRank = threadsPerRank;
        this.maxRows = maxRows;
        this.kvFormat = kvFormat;
    }

    /**
     * A model split over CPU ranks: each gets its shard of {@code full} (views of the mapping, plus column slices copied
     * into {@code arena}) and a {@link CpuBackend} with {@code threadsPerRank} compute threads.
     */
    public static TensorParallelTransformer split(ModelConfig config, ModelWeights full, int tensorParallel,
                                                  int threadsPerRank, int maxRows, Arena arena) {
        ShardPlan.of(config, tensorParallel);   // refuse an impossible split before making anything
        return TensorParallelTransformer.of(config, full, new CpuRanks(tensorParallel, threadsPerRank, maxRows), arena);
    }

    @Override
    public int ranks() {
        return group.size();
    }

    @Override
    public Backend open(int rank, ModelConfig config, ModelWeights shard, int vocabStart) {
        KvCacheFormat format = kvFormat != null ? kvFormat : KvCacheFormat.of(KvCacheDtype.FP32, config.numLayers());
        CpuBackend backend = new CpuBackend(config, shard.embedTokens(), vocabStart, group.member(rank), threadsPerRank,
                maxRows, format);
        if (progress != null) {
            backend.reportCopiesTo(progress.byteProgress("pack", rank).begin(LoadedModel.copiedOnFirstUse(shard)));
        }
        return backend;
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
