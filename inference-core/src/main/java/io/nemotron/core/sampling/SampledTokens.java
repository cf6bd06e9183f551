package io.nemotron.core.sampling;

/**
 * What a step's sampling op returns: one token id per logit row and, for the rows that asked, their logprobs. Also
 * holds the host sampling path's scratch (the logits rows and a {@link Sampler}), so that a step allocates nothing.
 * One per step loop (not thread-safe).
 */
public final class SampledTokens {
    public final int[] ids;
    public final SampledLogprobs[] logprobs;   // null where the row asked for none
    private final Sampler sampler = new Sampler();
    private float[] hostLogits = new float[0];

    public SampledTokens(int maxRows) {
        ids = new int[maxRows];
        logprobs = new SampledLogprobs[maxRows];
    }

    /** Scratch for at least {@code length} logits on the host (kept between steps). */
    public float[] hostLogits(int length) {
        if (hostLogits.length < length) {
            hostLogits = new float[length];
        }
        return hostLogits;
    }

    public Sampler sampler() {
        return sampler;
    }

    /** The host sampling op: samples every row of {@code sampling} from {@code logits} ([rows][vocab]). */
    public void sampleOnHost(float[] logits, int vocab, SamplingBatch sampling) {
        for (int r = 0; r < sampling.rows; r++) {
            ids[r] = sampler.sample(logits, r * vocab, vocab, sampling, r);
            logprobs[r] = sampling.wantsLogprobs(r)
                    ? sampler.logprobs(logits, r * vocab, vocab, ids[r], sampling.logprobs[r])
                    : null;
        }
    }
}
