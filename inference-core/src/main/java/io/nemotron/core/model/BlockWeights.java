package io.nemotron.core.model;

import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.weights.Tensor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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

    /** The record's tensor components, in declaration order: {@link #tensors()} needs no list of its own. */
    private static final RecordComponent[] TENSORS = Arrays.stream(BlockWeights.class.getRecordComponents())
            .filter(c -> c.getType() == Tensor.class)
            .toArray(RecordComponent[]::new);

    /** Every tensor the block has, in declaration order; the absent (null) ones left out. */
    public List<Tensor> tensors() {
        List<Tensor> present = new ArrayList<>(TENSORS.length);
        for (RecordComponent c : TENSORS) {
            Tensor t;
            try {
                t = (Tensor) c.getAccessor().invoke(this);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("cannot read " + c.getName() + " of a block's weights", e);
            }
            if (t != null) {
                present.add(t);
            }
        }
        return present;
    }
}
