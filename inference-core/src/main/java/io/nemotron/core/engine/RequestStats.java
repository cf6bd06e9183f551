package io.nemotron.core.engine;

/**
 * Usage and timings of one request.
 *
 * @param cachedPromptTokens prompt tokens whose KV came from the prefix cache
 * @param queueNanos         from submit to first schedule
 * @param firstTokenNanos    from submit to the first generated token (TTFT); 0 if none was generated
 */
public record RequestStats(int promptTokens, int completionTokens, int cachedPromptTokens, long queueNanos,
                           long firstTokenNanos, long totalNanos) {}
