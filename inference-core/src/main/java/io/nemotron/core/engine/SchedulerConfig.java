package io.nemotron.core.engine;

/**
 * Limits of one scheduling step.
 *
 * @param maxNumBatchedTokens  tokens run per step, prefill chunks and decodes together (the token budget)
 * @param maxNumSeqs           sequences running at once
 * @param maxWaiting           sequences queued before {@link Scheduler#add} rejects with EngineOverloadedException
 * @param longPrefillThreshold 0 = off; else the most tokens one sequence runs per step, so a long prompt is chunked
 *                             and leaves budget to other prefills (vLLM's {@code long_prefill_token_threshold})
 */
public record SchedulerConfig(int maxNumBatchedTokens, int maxNumSeqs, int maxWaiting, int longPrefillThreshold) {
    public SchedulerConfig {
        if (maxNumBatchedTokens < 1) {
            throw new IllegalArgumentException("maxNumBatchedTokens must be >= 1, got " + maxNumBatchedTokens);
        }
        if (maxNumSeqs < 1) {
            throw new IllegalArgumentException("maxNumSeqs must be >= 1, got " + maxNumSeqs);
        }
        if (maxWaiting < 1) {
            throw new IllegalArgumentException("maxWaiting must be >= 1, got " + maxWaiting);
        }
        if (longPrefillThreshold < 0) {
            throw new IllegalArgumentException("longPrefillThreshold must be >= 0 (0 = off), got " + longPrefillThreshold);
        }
    }

    /** Tokens one sequence may run in one step, before the shared budget. */
    int chunkLimit() {
        return longPrefillThreshold == 0 ? Integer.MAX_VALUE : longPrefillThreshold;
    }
}
