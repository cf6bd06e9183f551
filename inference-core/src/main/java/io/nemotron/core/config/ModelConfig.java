package io.nemotron.core.config;

import java.util.List;

/**
 * The architecture of a checkpoint, read from Hugging Face {@code config.json} by {@link ModelConfigLoader}.
 * A plain Llama is a nemotron-nas model whose blocks are all FULL attention + MLP.
 *
 * @param headDim       per-head size; {@code head_dim} or hidden / heads
 * @param ropeScaling   null for plain RoPE
 * @param eosTokenIds   every id that ends generation (config's int or list)
 */
public record ModelConfig(
        String architecture,
        String modelType,
        int hiddenSize,
        int numAttentionHeads,
        int headDim,
        int vocabSize,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds,
        String torchDtype,
        List<BlockConfig> blocks) {

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        blocks = List.copyOf(blocks);
    }

    public int numLayers() {
        return blocks.size();
    }

    /** intermediate size = find_multiple(int(2·ffn_mult·hidden/3), 256), as DeciLM's {@code _ffn_mult_to_intermediate_size}. */
    public static int ffnMultToIntermediateSize(double ffnMult, int hiddenSize) {
        int intermediate = (int) (2 * ffnMult * hiddenSize / 3);
        return findMultiple(intermediate, 256);
    }

    static int findMultiple(int n, int k) {
        return n % k == 0 ? n : n + k - n % k;
    }
}
