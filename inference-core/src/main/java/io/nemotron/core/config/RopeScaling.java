package io.nemotron.core.config;

/**
 * Llama-3 rope scaling ({@code rope_type: llama3}). Ultra uses factor 16, low 1, high 4, original 8192.
 * Absent (null in {@link ModelConfig}) means plain RoPE.
 */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {}
