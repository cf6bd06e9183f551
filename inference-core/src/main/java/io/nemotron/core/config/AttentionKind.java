package io.nemotron.core.config;

/** What a block does in its attention slot. Only {@link Full} holds a KV cache. */
public sealed interface AttentionKind {
    /** Grouped-query attention with its own kv-head count ({@code num_heads / n_heads_in_group}). */
    record Full(int kvHeads) implements AttentionKind {}

    /** {@code replace_with_linear}: {@code x + W · rmsnorm(x)} with a hidden×hidden {@code linear_attn}. */
    record Linear() implements AttentionKind {}

    /** {@code no_op}: the sub-block and its norm are skipped. */
    record None() implements AttentionKind {}
}
