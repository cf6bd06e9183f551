package io.nemotron.core.config;

import io.nemotron.core.weights.CheckpointLayout;
import io.nemotron.core.weights.TensorSpec;

/**
 * Sizes that follow from a config alone: parameter count, KV-cache bytes per token, block census, and per-GPU
 * memory estimates under tensor parallelism (what {@code nemotron inspect} prints and what capacity planning uses).
 *
 * <p>Tensor-parallel rule ({@link #perRankWeightBytes}), the Megatron / vLLM one, computed for the largest rank
 * (sizes that do not divide evenly are rounded up):
 * <ul>
 *   <li>column-parallel, dim 0 split: {@code q_proj}, {@code gate_proj}, {@code up_proj}, and the linear replacements
 *       {@code linear_attn} / {@code linear_mlp} (their output is gathered like any column-parallel layer);</li>
 *   <li>{@code k_proj} / {@code v_proj} split by kv head, but when a layer has fewer kv heads than ranks each rank
 *       holds one whole kv head (replicated), since a head cannot be split across ranks;</li>
 *   <li>row-parallel, dim 1 split: {@code o_proj}, {@code down_proj};</li>
 *   <li>vocab-parallel, dim 0 split: {@code embed_tokens}, {@code lm_head} (a tied head is the embedding, counted once);</li>
 *   <li>norms replicated.</li>
 * </ul>
 * Projection matrices are counted at the weight width given; embeddings, lm_head and norms at no less than 2 bytes,
 * because FP8 checkpoints (ModelOpt, the published Ultra FP8) keep them in BF16.
 */
public final class ModelStats {

    private final ModelConfig config;
    private final CheckpointLayout layout;

    private ModelStats(ModelConfig config) {
        this.config = config;
        this.layout = CheckpointLayout.of(config);
    }

    public static ModelStats of(ModelConfig config) {
        return new ModelStats(config);
    }

    /** Sum of all weight tensors' element counts; an untied lm_head counts, a tied one does not. */
    public long parameters() {
        return layout.parameters();
    }

    public BlockCounts blockCounts() {
        return BlockCounts.of(config);
    }

    /** K and V of every FULL-attention layer for one token, whole model: Σ 2 · kvHeads · headDim · bytes. */
    public long kvBytesPerToken(int kvDtypeBytes) {
        return kvBytesPerTokenPerRank(1, kvDtypeBytes);
    }

    /** As {@link #kvBytesPerToken} for one rank: kv heads split over ranks, at least one head per rank. */
    public long kvBytesPerTokenPerRank(int tp, int kvDtypeBytes) {
        checkTp(tp);
        checkBytes(kvDtypeBytes, "kv dtype");
        long bytes = 0;
        for (BlockConfig b : config.blocks()) {
            if (b.attention() instanceof AttentionKind.Full full) {
                bytes += 2L * kvHeadsPerRank(full.kvHeads(), tp) * config.headDim() * kvDtypeBytes;
            }
        }
        return bytes;
    }

    /** Weight bytes held by the largest rank under the split rule in the class comment. */
    public long perRankWeightBytes(int tp, int weightBytes) {
        checkTp(tp);
        checkBytes(weightBytes, "weight dtype");
        long total = 0;
        for (TensorSpec t : layout.required()) {
            long[] s = t.shape();
            long elements = switch (t.split()) {
                case REPLICATED -> t.numel();
                case OUT_FEATURES, VOCAB -> ceilDiv(s[0], tp) * s[1];
                case KV_HEADS -> kvHeadsPerRank(s[0] / config.headDim(), tp) * config.headDim() * s[1];
                case IN_FEATURES -> s[0] * ceilDiv(s[1], tp);
            };
            boolean projection = t.split() != TensorSpec.Split.REPLICATED && t.split() != TensorSpec.Split.VOCAB;
            total = Math.addExact(total, Math.multiplyExact(elements, projection ? weightBytes : Math.max(weightBytes, 2)));
        }
        return total;
    }

    private static long kvHeadsPerRank(long kvHeads, int tp) {
        return Math.max(1, ceilDiv(kvHeads, tp));
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private void checkTp(int tp) {
        if (tp < 1) {
            throw new IllegalArgumentException("tensor parallel size must be at least 1, got " + tp);
        }
        if (config.numAttentionHeads() % tp != 0) {
            // Query heads are the unit of attention parallelism; an uneven split is not something we serve.
            throw new IllegalArgumentException("tensor parallel size " + tp + " does not divide num_attention_heads "
                    + config.numAttentionHeads());
        }
    }

    private static void checkBytes(int bytes, String what) {
        if (bytes < 1) {
            throw new IllegalArgumentException(what + " width must be at least 1 byte, got " + bytes);
        }
    }
}
