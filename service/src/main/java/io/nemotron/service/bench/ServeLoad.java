package io.nemotron.service.bench;

/**
 * What {@code bench serve} sends: {@code requests} Generate calls of {@code promptLen} token ids (the first
 * {@code sharedPrefixLen} identical across requests, the rest random) asking for {@code genLen} tokens each, at most
 * {@code concurrency} in flight, arriving as a Poisson process of {@code rate} per second (0 = all at once).
 */
public record ServeLoad(String target, int concurrency, int requests, int promptLen, int genLen, int sharedPrefixLen,
                        double rate, int vocabLimit, long seed) {
    public ServeLoad {
        if (concurrency < 1 || requests < 1 || promptLen < 1 || genLen < 1) {
            throw new IllegalArgumentException("concurrency, requests, prompt-len and gen-len must be >= 1");
        }
        if (sharedPrefixLen < 0 || sharedPrefixLen > promptLen) {
            throw new IllegalArgumentException("--shared-prefix-len must be in [0, prompt-len], got " + sharedPrefixLen);
        }
        if (rate < 0) {
            throw new IllegalArgumentException("--rate must be >= 0, got " + rate);
        }
    }
}
