package io.nemotron.service.metrics;

import java.time.Duration;

/**
 * Explicit histogram buckets for LLM latencies. Micrometer's default percentile histogram spreads ~70 buckets from
 * 1 ms to 30 s whatever is measured; these are few, fixed (so dashboards and SLO alerts can name a bucket), and cover
 * each quantity's real range: a time to first token grows with the prompt and the queue, a whole request of a
 * 253B model with a long answer takes minutes.
 */
final class LatencyBuckets {
    /** Time to first token: 10 ms (a cached short prompt) to 60 s (a long prefill behind a queue). */
    static final Duration[] TIME_TO_FIRST_TOKEN = ms(10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2500, 5000,
            7500, 10_000, 20_000, 40_000, 60_000);
    /** Between two tokens of one stream: 1 ms (a small model alone) to 2 s (a huge batch, or a preemption). */
    static final Duration[] INTER_TOKEN = ms(1, 2, 5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 500, 750, 1000,
            2000);
    /** A whole request: 100 ms to 30 min (long reasoning at low speed). */
    static final Duration[] END_TO_END = ms(100, 250, 500, 1000, 2500, 5000, 10_000, 15_000, 20_000, 30_000, 40_000,
            50_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000);
    /** From submit to first schedule: 1 ms (an idle engine) to 5 min (a deep queue). */
    static final Duration[] QUEUE = ms(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000,
            120_000, 300_000);
    /** One engine step (forward pass, sampling, events): 0.5 ms to 10 s (a long prefill chunk on a CPU). */
    static final Duration[] STEP = micros(500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
            1_000_000, 2_000_000, 5_000_000, 10_000_000);
    /** Sequences in one step: powers of two up to the largest max-num-seqs one would configure. */
    static final double[] BATCH_SEQUENCES = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    /** Token rows in one step: one decode up to a large max-num-batched-tokens. */
    static final double[] BATCH_TOKENS = {1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};

    private LatencyBuckets() {}

    private static Duration[] ms(long... millis) {
        Duration[] out = new Duration[millis.length];
        for (int i = 0; i < millis.length; i++) {
            out[i] = Duration.ofMillis(millis[i]);
        }
        return out;
    }

    private static Duration[] micros(long... micros) {
        Duration[] out = new Duration[micros.length];
        for (int i = 0; i < micros.length; i++) {
            out[i] = Duration.ofNanos(micros[i] * 1000);
        }
        return out;
    }
}
