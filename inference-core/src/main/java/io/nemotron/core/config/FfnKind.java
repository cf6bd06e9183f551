package io.nemotron.core.config;

/** What a block does in its FFN slot. */
public sealed interface FfnKind {
    /** SwiGLU MLP: {@code down(silu(gate(x)) * up(x))} of a per-block width. */
    record Mlp(int intermediateSize) implements FfnKind {}

    /** {@code replace_with_linear}: {@code x + W · rmsnorm(x)} with a hidden×hidden {@code linear_mlp}. */
    record Linear() implements FfnKind {}

    /** {@code no_op}: the sub-block and its norm are skipped. */
    record None() implements FfnKind {}
}
