package io.nemotron.core.engine;

/**
 * The outcome of one generation: the generated ids (every sampled token, including a final EOS), the streamed
 * text (stop string removed), why it stopped, and timings.
 */
public record GenerationResult(int[] promptIds, int[] outputIds, String text, StopReason finishReason,
                               GenerationStats stats) {}
