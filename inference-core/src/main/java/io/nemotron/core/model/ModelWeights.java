package io.nemotron.core.model;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.weights.Tensor;
import io.nemotron.core.weights.WeightSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps Hugging Face tensor names (Llama and DeciLM / nemotron-nas share them) onto the model's structure. An F8_E4M3
 * linear (a ModelOpt FP8 checkpoint, validated by {@code CheckpointLayout}) comes with its scales attached.
 */
public record ModelWeights(
        Tensor embedTokens,         // [vocab, hidden]
        List<BlockWeights> blocks,
        Tensor norm,                // [hidden]
        Tensor lmHead) {            // [vocab, hidden]; the embedding itself when tied

    public static ModelWeights from(ModelConfig config, WeightSource checkpoint) {
        WeightSource source = new ScaledLinears(checkpoint);
        Tensor embed = source.tensor("model.embed_tokens.weight");
        BlockWeights[] blocks = new BlockWeights[config.numLayers()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = block(config.blocks().get(i), "model.layers." + i + ".", source);
        }
        Tensor lmHead = config.tieWordEmbeddings() ? embed : source.tensor("lm_head.weight");
        return new ModelWeights(embed, List.of(blocks), source.tensor("model.norm.weight"), lmHead);
    }

    /**
     * Every tensor of the model, in checkpoint order: the embedding, each block's {@link BlockWeights#tensors()}, the
     * final norm and the lm_head (the embedding again when tied).
     */
    public List<Tensor> tensors() {
        List<Tensor> all = new ArrayList<>();
        all.add(embedTokens);
        for (BlockWeights b : blocks) {
            all.addAll(b.tensors());
        }
        all.add(norm);
        all.add(lmHead);
        return all;
    }

    private static BlockWeights block(BlockConfig config, String p, WeightSource s) {
        Tensor inputNorm = null, q = null, k = null, v = null, o = null, linearAttn = null;
        switch (config.attention()) {
            case AttentionKind.Full full -> {
                inputNorm = s.tensor(p + "input_layernorm.weight");
                q = s.tensor(p + "self_attn.q_proj.weight");
                k = s.tensor(p + "self_attn.k_proj.weight");
                v = s.tensor(p + "self_attn.v_proj.weight");
                o = s.tensor(p + "self_attn.o_proj.weight");
            }
            case AttentionKind.Linear linear -> {
                inputNorm = s.tensor(p + "input_layernorm.weight");
                linearAttn = s.tensor(p + "self_attn.linear_attn.weight");
            }
            case AttentionKind.None none -> { }
        }
        Tensor postNorm = null, gate = null, up = null, down = null, linearMlp = null;
        switch (config.ffn()) {
            case FfnKind.Mlp mlp -> {
                postNorm = s.tensor(p + "post_attention_layernorm.weight");
                gate = s.tensor(p + "mlp.gate_proj.weight");
                up = s.tensor(p + "mlp.up_proj.weight");
                down = s.tensor(p + "mlp.down_proj.weight");
            }
            case FfnKind.Linear linear -> {
                postNorm = s.tensor(p + "post_attention_layernorm.weight");
                linearMlp = s.tensor(p + "mlp.linear_mlp.weight");
            }
            case FfnKind.None none -> { }
        }
        return new BlockWeights(config, inputNorm, q, k, v, o, linearAttn, postNorm, gate, up, down, linearMlp);
    }
}
