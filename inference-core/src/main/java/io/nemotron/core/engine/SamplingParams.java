package io.nemotron.core.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * How one request picks its tokens and when it stops. Defaults are the "off" value of each knob, so
 * {@code SamplingParams.builder().build()} samples from the plain softmax (temperature 1).
 *
 * @param temperature       0 = greedy (argmax, lowest id among ties)
 * @param topK              keep the k most likely ids; 0 or -1 = off
 * @param topP              keep the smallest most-likely set whose mass reaches p; 1 = off
 * @param minP              keep ids whose probability is at least minP x the top probability; 0 = off
 * @param repetitionPenalty HF/vLLM: over prompt and generated ids, logit > 0 is divided by it, else multiplied; 1 = off
 * @param presencePenalty   OpenAI/vLLM: subtracted once from the logit of every id generated so far; 0 = off
 * @param frequencyPenalty  OpenAI/vLLM: subtracted once per earlier generation of the id; 0 = off
 * @param seed              per-request seed, or null for a fresh random one
 * @param maxTokens         generated tokens at most (finish reason {@code length})
 * @param stop              strings that end generation; they are not part of the output
 * @param stopTokenIds      ids that end generation besides the model's EOS ids
 * @param ignoreEos         keep generating past the model's EOS ids
 * @param logprobs          how many top logprobs to return per token (0 = only the chosen one), or null for none
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        float presencePenalty,
        float frequencyPenalty,
        Long seed,
        int maxTokens,
        List<String> stop,
        List<Integer> stopTokenIds,
        boolean ignoreEos,
        Integer logprobs) {

    public static final int DEFAULT_MAX_TOKENS = 16;

    public SamplingParams {
        stop = List.copyOf(stop);
        stopTokenIds = List.copyOf(stopTokenIds);
    }

    /** Greedy decoding of at most {@code maxTokens} tokens, nothing else set. */
    public static SamplingParams greedy(int maxTokens) {
        return builder().temperature(0).maxTokens(maxTokens).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }

    boolean topKEnabled(int vocab) {
        return topK > 0 && topK < vocab;
    }

    boolean penaltiesEnabled() {
        return repetitionPenalty != 1f || presencePenalty != 0f || frequencyPenalty != 0f;
    }

    /** Throws {@link InvalidRequestException} naming the first bad field; returns this for chaining. */
    public SamplingParams validate() {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw bad("temperature: must be >= 0, got " + temperature);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw bad("top_p: must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0f && minP <= 1f)) {
            throw bad("min_p: must be in [0, 1], got " + minP);
        }
        if (topK < -1) {
            throw bad("top_k: must be -1 (off), 0 (off) or positive, got " + topK);
        }
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) {
            throw bad("repetition_penalty: must be > 0, got " + repetitionPenalty);
        }
        if (!(presencePenalty >= -2f && presencePenalty <= 2f)) {
            throw bad("presence_penalty: must be in [-2, 2], got " + presencePenalty);
        }
        if (!(frequencyPenalty >= -2f && frequencyPenalty <= 2f)) {
            throw bad("frequency_penalty: must be in [-2, 2], got " + frequencyPenalty);
        }
        if (maxTokens < 1) {
            throw bad("max_tokens: must be >= 1, got " + maxTokens);
        }
        for (String s : stop) {
            if (s == null || s.isEmpty()) {
                throw bad("stop: strings must not be empty");
            }
        }
        for (Integer id : stopTokenIds) {
            if (id == null || id < 0) {
                throw bad("stop_token_ids: must be >= 0, got " + id);
            }
        }
        if (logprobs != null && logprobs < 0) {
            throw bad("logprobs: must be >= 0, got " + logprobs);
        }
        return this;
    }

    private static IllegalArgumentException bad(String message) {
        return new InvalidRequestException(message);
    }

    /** Mutable builder; every field starts at its "off" value. */
    public static final class Builder {
        private float temperature = 1f;
        private int topK = 0;
        private float topP = 1f;
        private float minP = 0f;
        private float repetitionPenalty = 1f;
        private float presencePenalty = 0f;
        private float frequencyPenalty = 0f;
        private Long seed;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private final List<String> stop = new ArrayList<>();
        private final List<Integer> stopTokenIds = new ArrayList<>();
        private boolean ignoreEos;
        private Integer logprobs;

        private Builder() {}

        public Builder temperature(float v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(float v) { topP = v; return this; }
        public Builder minP(float v) { minP = v; return this; }
        public Builder repetitionPenalty(float v) { repetitionPenalty = v; return this; }
        public Builder presencePenalty(float v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(float v) { frequencyPenalty = v; return this; }
        public Builder seed(Long v) { seed = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder stop(String... v) { stop.addAll(List.of(v)); return this; }
        public Builder stopTokenIds(Integer... v) { stopTokenIds.addAll(List.of(v)); return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
        public Builder logprobs(Integer v) { logprobs = v; return this; }

        /** The parameters, not yet validated: call {@link SamplingParams#validate()} at the API boundary. */
        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty,
                    frequencyPenalty, seed, maxTokens, stop, stopTokenIds, ignoreEos, logprobs);
        }
    }
}
