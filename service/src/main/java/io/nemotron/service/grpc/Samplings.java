package io.nemotron.service.grpc;

import io.nemotron.api.v1.Sampling;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.service.chat.SamplingDefaults;
import java.util.List;

/** The request's sampling fields to validated {@link SamplingParams}; unset fields take the mode's defaults. */
final class Samplings {
    /** As OpenAI's API: more alternatives per token cost a sort of the vocabulary for little use. */
    static final int MAX_TOP_LOGPROBS = 20;

    private Samplings() {}

    /**
     * @param defaults   temperature and top_p for unset fields (the chat preparation's, or greedy for raw prompts)
     * @param maxTokens  the request's max_tokens, or null to fill the rest of the context
     */
    static SamplingParams of(Sampling s, SamplingDefaults defaults, Integer maxTokens, int promptTokens, int contextLength,
                             List<String> stop, boolean ignoreEos, boolean logprobs, int topLogprobs) {
        int room = contextLength - promptTokens;
        if (room < 1) {
            throw new IllegalArgumentException("messages: the prompt is " + promptTokens
                    + " tokens, which leaves no room in the context length " + contextLength);
        }
        int max = maxTokens != null ? maxTokens : room;
        if (max > room) {
            throw new IllegalArgumentException("max_tokens: prompt (" + promptTokens + " tokens) + max_tokens ("
                    + max + ") exceeds the context length " + contextLength);
        }
        if (topLogprobs > MAX_TOP_LOGPROBS) {
            throw new IllegalArgumentException("top_logprobs: at most " + MAX_TOP_LOGPROBS + ", got " + topLogprobs);
        }
        if (topLogprobs > 0 && !logprobs) {
            throw new IllegalArgumentException("top_logprobs: needs logprobs = true");
        }
        return SamplingParams.builder()
                .temperature(s.hasTemperature() ? s.getTemperature() : defaults.temperature())
                .topP(s.hasTopP() ? s.getTopP() : defaults.topP())
                .topK(s.hasTopK() ? s.getTopK() : 0)
                .minP(s.hasMinP() ? s.getMinP() : 0f)
                .repetitionPenalty(s.hasRepetitionPenalty() ? s.getRepetitionPenalty() : 1f)
                .presencePenalty(s.hasPresencePenalty() ? s.getPresencePenalty() : 0f)
                .frequencyPenalty(s.hasFrequencyPenalty() ? s.getFrequencyPenalty() : 0f)
                .seed(s.hasSeed() ? s.getSeed() : null)
                .maxTokens(max)
                .stop(stop.toArray(String[]::new))
                .ignoreEos(ignoreEos)
                .logprobs(logprobs ? topLogprobs : null)
                .build()
                .validate();
    }
}
