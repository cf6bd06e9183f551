package io.nemotron.service.chat;

import io.nemotron.core.chat.Thinking;

/**
 * What a chat request samples with when it does not say: the model card's reasoning settings (temperature 0.6,
 * top-p 0.95) with thinking on, greedy with it off and for raw prompts. The one place these numbers live.
 */
public record SamplingDefaults(float temperature, float topP) {
    public static final SamplingDefaults GREEDY = new SamplingDefaults(0f, 1f);
    public static final SamplingDefaults REASONING = new SamplingDefaults(0.6f, 0.95f);

    public static SamplingDefaults of(Thinking mode) {
        return mode == Thinking.ON ? REASONING : GREEDY;
    }
}
