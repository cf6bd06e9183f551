package io.nemotron.core.bench;

/**
 * One batch size through the real engine: every request submitted at once.
 *
 * @param prefillTokensPerSecond prompt tokens of all requests / time until the last request got its first token
 * @param decodeTokensPerSecond  tokens after each request's first / time from then to the last finish
 */
public record OfflineResult(int batch, int promptLen, int genLen, double seconds, double prefillTokensPerSecond,
                            double decodeTokensPerSecond, double outputTokensPerSecond) {}
