package io.nemotron.core.parallel;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * How a model is split over {@code ranks} tensor-parallel ranks (Megatron style), the same for every backend:
 * <ul>
 * <li>attention: query heads split evenly (q_proj rows, o_proj columns); kv heads split evenly when there are at least
 * as many as ranks, else each kv head is replicated on the {@code ranks / kvHeads} ranks whose query heads use it
 * (Ultra: 8 kv heads on TP8, one per GPU); o_proj is row-parallel, summed by an all-reduce;</li>
 * <li>MLP: gate/up rows (column-parallel) and down columns (row-parallel, all-reduce) split into contiguous ranges,
 * as even as the width allows;</li>
 * <li>embedding and lm_head: vocab-parallel (each rank holds a contiguous range of token rows; the embedding is
 * all-reduced, the logits gathered);</li>
 * <li>linear-replaced sub-blocks (one hidden × hidden matmul): column-parallel, each rank computes a contiguous
 * range of the output columns and an all-reduce over zero-padded slices assembles them (an all-gather that reuses
 * the one collective; every element is computed by one rank, so the result is exact);</li>
 * <li>norms are replicated.</li>
 * </ul>
 */
public final class ShardPlan {
    private final ModelConfig config;
    private final int ranks;

    private ShardPlan(ModelConfig config, int ranks) {
        this.config = config;
        this.ranks = ranks;
    }

    /** Validates that {@code config} can be split over {@code ranks}; the message names what cannot. */
    public static ShardPlan of(ModelConfig config, int ranks) {
        if (ranks < 1) {
            throw new IllegalArgumentException("tensor-parallel size must be >= 1, got " + ranks);
        }
        if (config.numAttentionHeads() % ranks != 0) {
            throw new IllegalArgumentException("tensor-parallel size " + ranks + " does not divide the "
                    + config.numAttentionHeads() + " attention heads");
        }
        if (config.vocabSize() < ranks) {
            throw new IllegalArgumentException("tensor-parallel size " + ranks + " exceeds the vocabulary ("
                    + config.vocabSize() + ")");
        }
        for (int layer = 0; layer < config.numLayers(); layer++) {
            BlockConfig b = config.blocks().get(layer);
            if (b.attention() instanceof AttentionKind.Full full) {
                int kv = full.kvHeads();
                if (kv % ranks != 0 && ranks % kv != 0) {
                    throw new IllegalArgumentException("layer " + layer + ": " + kv + " kv heads can neither be split"
                            + " over nor replicated across " + ranks + " tensor-parallel ranks");
                }
            }
            if (b.ffn() instanceof FfnKind.Mlp mlp && mlp.intermediateSize() < ranks) {
                throw new IllegalArgumentException("layer " + layer + ": intermediate size " + mlp.intermediateSize()
                        + " is smaller than the tensor-parallel size " + ranks);
            }
        }
        return new ShardPlan(config, ranks);
    }

    public ModelConfig config() {
        return config;
    }

    public int ranks() {
        return ranks;
    }

    /** Query heads of {@code rank}: [from, to). */
    public Range queryHeads(int rank) {
        int per = config.numAttentionHeads() / ranks;
        return new Range(rank * per, (rank + 1) * per);
    }

    /** KV heads {@code rank} holds in a FULL layer with {@code kvHeads} heads: its own slice, or the replicated one. */
    public Range kvHeads(int kvHeads, int rank) {
        if (kvHeads >= ranks) {
            int per = kvHeads / ranks;
            return new Range(rank * per, (rank + 1) * per);
        }
        int head = rank / (ranks / kvHeads);
        return new Range(head, head + 1);
    }

    /** Intermediate columns of an MLP of width {@code width} on {@code rank}. */
    public Range intermediate(int width, int rank) {
        return even(width, rank);
    }

    /** Output columns of the hidden → hidden linear sub-blocks on {@code rank} (column-parallel). */
    public Range hidden(int rank) {
        return even(config.hiddenSize(), rank);
    }

    /** Token rows of the embedding and lm_head on {@code rank}. */
    public Range vocab(int rank) {
        return even(config.vocabSize(), rank);
    }

    private Range even(int n, int rank) {
        return new Range((int) ((long) n * rank / ranks), (int) ((long) n * (rank + 1) / ranks));
    }

    /**
     * The model as {@code rank} sees it: its query heads, its kv heads and MLP widths per block; hidden size and
     * vocabulary stay whole (the residual stream is replicated; logits are gathered to the full vocabulary).
     */
    public ModelConfig rankConfig(int rank) {
        List<BlockConfig> blocks = new ArrayList<>();
        for (BlockConfig b : config.blocks()) {
            AttentionKind attention = b.attention() instanceof AttentionKind.Full full
                    ? new AttentionKind.Full(kvHeads(full.kvHeads(), rank).size()) : b.attention();
            FfnKind ffn = b.ffn() instanceof FfnKind.Mlp mlp
                    ? new FfnKind.Mlp(intermediate(mlp.intermediateSize(), rank).size()) : b.ffn();
            blocks.add(new BlockConfig(attention, ffn));
        }
        return new ModelConfig(config.architecture(), config.modelType(), config.hiddenSize(),
                config.numAttentionHeads() / ranks, config.headDim(), config.vocabSize(),
                config.maxPositionEmbeddings(), config.rmsNormEps(), config.ropeTheta(), config.ropeScaling(),
                config.tieWordEmbeddings(), config.bosTokenId(), config.eosTokenIds(), config.torchDtype(), blocks);
    }

    /** A half-open index range. */
    public record Range(int from, int to) {
        public int size() {
            return to - from;
        }
    }
}
