package io.nemotron.core.config;

/** One decoder block of a nemotron-nas model; a plain Llama has every block FULL + MLP. */
public record BlockConfig(AttentionKind attention, FfnKind ffn) {}
