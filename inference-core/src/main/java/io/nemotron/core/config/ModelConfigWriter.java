package io.nemotron.core.config;

import java.util.List;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a {@link ModelConfig} as Hugging Face {@code config.json} that {@link ModelConfigLoader} (and transformers)
 * read back to the same config: {@code LlamaForCausalLM} form for a Llama architecture, {@code DeciLMForCausalLM}
 * with {@code block_configs} otherwise. Used for generated checkpoints (random weights, the demo model).
 */
public final class ModelConfigWriter {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ModelConfigWriter() {}

    public static String toJson(ModelConfig c) {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("architectures").add(c.architecture());
        root.put("model_type", c.modelType());
        root.put("hidden_act", "silu");
        root.put("attention_bias", false);
        root.put("mlp_bias", false);
        root.put("hidden_size", c.hiddenSize());
        root.put("num_attention_heads", c.numAttentionHeads());
        root.put("head_dim", c.headDim());
        root.put("num_hidden_layers", c.numLayers());
        root.put("vocab_size", c.vocabSize());
        root.put("max_position_embeddings", c.maxPositionEmbeddings());
        root.put("rms_norm_eps", c.rmsNormEps());
        root.put("rope_theta", c.ropeTheta());
        if (c.ropeScaling() == null) {
            root.putNull("rope_scaling");
        } else {
            RopeScaling rs = c.ropeScaling();
            root.putObject("rope_scaling")
                    .put("rope_type", "llama3")
                    .put("factor", rs.factor())
                    .put("low_freq_factor", rs.lowFreqFactor())
                    .put("high_freq_factor", rs.highFreqFactor())
                    .put("original_max_position_embeddings", rs.originalMaxPositionEmbeddings());
        }
        root.put("tie_word_embeddings", c.tieWordEmbeddings());
        if (c.bosTokenId() >= 0) {
            root.put("bos_token_id", c.bosTokenId());
        }
        ArrayNode eos = root.putArray("eos_token_id");
        c.eosTokenIds().forEach(eos::add);
        root.put("torch_dtype", c.torchDtype());
        if (c.architecture().equals("LlamaForCausalLM")) {
            writeLlamaBlocks(root, c);
        } else {
            writeNasBlocks(root, c);
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }

    /** A Llama config has one kv-head count and one FFN width for all layers; anything else needs DeciLM. */
    private static void writeLlamaBlocks(ObjectNode root, ModelConfig c) {
        List<BlockConfig> blocks = c.blocks();
        BlockConfig first = blocks.getFirst();
        if (!(first.attention() instanceof AttentionKind.Full full) || !(first.ffn() instanceof FfnKind.Mlp mlp)
                || blocks.stream().anyMatch(b -> !b.equals(first))) {
            throw new ModelConfigException("a LlamaForCausalLM config needs identical FULL + MLP blocks; use DeciLMForCausalLM");
        }
        root.put("num_key_value_heads", full.kvHeads());
        root.put("intermediate_size", mlp.intermediateSize());
    }

    private static void writeNasBlocks(ObjectNode root, ModelConfig c) {
        ArrayNode list = root.putArray("block_configs");
        for (BlockConfig b : c.blocks()) {
            ObjectNode block = list.addObject();
            ObjectNode attn = block.putObject("attention");
            switch (b.attention()) {
                case AttentionKind.Full full -> attn.put("n_heads_in_group", c.numAttentionHeads() / full.kvHeads())
                        .put("no_op", false).put("replace_with_linear", false);
                case AttentionKind.Linear l -> attn.put("no_op", false).put("replace_with_linear", true);
                case AttentionKind.None n -> attn.put("no_op", true).put("replace_with_linear", false);
            }
            ObjectNode ffn = block.putObject("ffn");
            switch (b.ffn()) {
                case FfnKind.Mlp mlp -> ffn.put("ffn_mult", ffnMultFor(mlp.intermediateSize(), c.hiddenSize()))
                        .put("no_op", false).put("replace_with_linear", false);
                case FfnKind.Linear l -> ffn.put("no_op", false).put("replace_with_linear", true);
                case FfnKind.None n -> ffn.put("no_op", true).put("replace_with_linear", false);
            }
        }
    }

    /**
     * DeciLM stores FFN width as a multiplier that is rounded up to a multiple of 256, so only such widths can be
     * written; the inverse {@code 3 · inter / (2 · hidden)} is checked against the forward formula.
     */
    static double ffnMultFor(int intermediateSize, int hiddenSize) {
        double mult = 3.0 * intermediateSize / (2.0 * hiddenSize);
        if (ModelConfig.ffnMultToIntermediateSize(mult, hiddenSize) != intermediateSize) {
            throw new ModelConfigException("intermediate size " + intermediateSize + " cannot be written as a DeciLM ffn_mult"
                    + " (it must be a multiple of 256)");
        }
        return mult;
    }
}
