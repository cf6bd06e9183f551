package io.nemotron.core.model;

import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.weights.Tensor;

/**
 * The tensors of one decoder block, named after the Hugging Face checkpoint. A field is null when the block's
 * variant has no such tensor (a no-op sub-block has neither weights nor norm).
 */
public record BlockWeights(
        BlockConfig config,
        Tensor inputLayernorm,        // [hidden]                  absent when attention is no_op
        Tensor qProj,                 // [heads·headDim, hidden]   FULL attention
        Tensor kProj,                 // [kvHeads·headDim, hidden]
        Tensor vProj,                 // [kvHeads·headDim, hidden]
        Tensor oProj,                 // [hidden, heads·headDim]
        Tensor linearAttn,            // [hidden, hidden]          attention replace_with_linear
        Tensor postAttentionLayernorm,// [hidden]                  absent when the FFN is no_op
        Tensor gateProj,              // [intermediate, hidden]    MLP
        Tensor upProj,                // [intermediate, hidden]
        Tensor downProj,              // [hidden, intermediate]
        Tensor linearMlp) {           // [hidden, hidden]          FFN replace_with_linear
}
