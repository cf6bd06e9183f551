package io.nemotron.core.weights;

import java.util.Arrays;

/**
 * A tensor a checkpoint of some config must hold: Hugging Face name, shape ([out, in] for linear layers, torch
 * layout), how tensor parallelism splits it, and whether it may be absent (a tied {@code lm_head}).
 */
public record TensorSpec(String name, long[] shape, Split split, boolean required) {

    /** How a tensor is divided over tensor-parallel ranks (Megatron / vLLM convention). */
    public enum Split {
        /** Every rank holds all of it (RMSNorm weights). */
        REPLICATED,
        /** Column-parallel: dim 0 (output features) split over ranks (q_proj, gate_proj, up_proj, linear replacements). */
        OUT_FEATURES,
        /** Column-parallel by kv head: split while there are at least as many kv heads as ranks, else one head replicated. */
        KV_HEADS,
        /** Row-parallel: dim 1 (input features) split over ranks, all-reduce after (o_proj, down_proj). */
        IN_FEATURES,
        /** Vocab-parallel: dim 0 (vocabulary rows) split over ranks (embed_tokens, lm_head). */
        VOCAB
    }

    public TensorSpec {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * A projection matrix (what a ModelOpt checkpoint may store as FP8): 2-D and not the embedding, whose rows are
     * gathered, never multiplied.
     */
    public boolean linear() {
        return shape.length == 2 && !name.equals("model.embed_tokens.weight");
    }

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && name.equals(t.name) && Arrays.equals(shape, t.shape) && split == t.split
                && required == t.required;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + shapeString() + " " + split + (required ? "" : " (optional)");
    }
}
