package io.nemotron.core.bench;

/**
 * One decode measurement at batch 1. {@code weightBytesPerToken} is what a decode step must stream from memory
 * (every matrix once, the embedding only as one gathered row), so achieved bandwidth = bytes × tokens/s.
 */
public record DecodeResult(String shape, String dtype, int threads, long parameters, long weightBytesPerToken,
                           int promptTokens, int generatedTokens, double prefillTokensPerSecond,
                           double decodeTokensPerSecond, double achievedGBps, double fractionOfBandwidth) {}
