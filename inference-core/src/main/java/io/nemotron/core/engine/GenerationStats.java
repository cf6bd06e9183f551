package io.nemotron.core.engine;

/** Wall-clock timings of one generation; decode covers the tokens after the first. */
public record GenerationStats(int promptTokens, int generatedTokens, long prefillNanos, long decodeNanos) {

    /** Tokens per second of the decode phase (tokens 2..n, each one forward step), 0 when there was none. */
    public double decodeTokensPerSecond() {
        int steps = Math.max(0, generatedTokens - 1);
        return decodeNanos == 0 ? 0 : steps * 1e9 / decodeNanos;
    }

    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }
}
