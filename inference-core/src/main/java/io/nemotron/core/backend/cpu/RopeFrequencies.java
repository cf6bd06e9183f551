package io.nemotron.core.backend.cpu;

import io.nemotron.core.config.RopeScaling;

/**
 * RoPE inverse frequencies exactly as Hugging Face transformers computes them, including
 * {@code _compute_llama3_parameters}. HF works in float32, so each step here is rounded to float where HF's is.
 */
public final class RopeFrequencies {

    private RopeFrequencies() {}

    /** inv_freq[i] for i in [0, headDim/2), llama3-scaled when scaling is non-null. */
    public static float[] inverse(int headDim, double theta, RopeScaling scaling) {
        float[] invFreq = new float[headDim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            // HF: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), all float32 tensors
            float exponent = (float) (2 * i) / (float) headDim;
            float power = (float) Math.pow(theta, exponent);
            invFreq[i] = 1.0f / power;
        }
        if (scaling != null) {
            for (int i = 0; i < invFreq.length; i++) {
                invFreq[i] = llama3(invFreq[i], scaling);
            }
        }
        return invFreq;
    }

    /**
     * Llama-3 frequency-dependent scaling: short wavelengths (high frequencies) are kept, long ones divided by
     * factor, and the band between blends the two linearly in original/wavelen.
     */
    static float llama3(float invFreq, RopeScaling s) {
        double original = s.originalMaxPositionEmbeddings();
        double lowFreqWavelen = original / s.lowFreqFactor();
        double highFreqWavelen = original / s.highFreqFactor();
        double wavelen = 2 * Math.PI / invFreq;
        if (wavelen < highFreqWavelen) {
            return invFreq;
        }
        if (wavelen > lowFreqWavelen) {
            return (float) (invFreq / s.factor());
        }
        double smooth = (original / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
        return (float) ((1 - smooth) * invFreq / s.factor() + smooth * invFreq);
    }
}
