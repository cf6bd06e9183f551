package io.nemotron.core.engine;

import java.util.List;
import java.util.stream.IntStream;

/**
 * The stops decided from token ids alone, right after sampling on the step thread (vLLM v1's {@code check_stop}):
 * max_tokens reached gives {@code length} (even when that last token is EOS, as in vLLM v1); else an EOS id (unless
 * ignore_eos) or a stop token id gives {@code stop}. Stop strings need the text and are found by the output stage.
 *
 * @param maxTokens    generated tokens at which the sequence ends
 * @param stopTokenIds EOS ids (unless ignore_eos) and the request's stop_token_ids
 */
public record TokenStops(int maxTokens, int[] stopTokenIds) {

    /** {@code eosTokenIds} are the model's (config.json / generation_config.json). */
    public static TokenStops of(SamplingParams params, List<Integer> eosTokenIds) {
        IntStream eos = params.ignoreEos() ? IntStream.empty() : eosTokenIds.stream().mapToInt(Integer::intValue);
        return new TokenStops(params.maxTokens(),
                IntStream.concat(eos, params.stopTokenIds().stream().mapToInt(Integer::intValue)).toArray());
    }

    /** Only max_tokens: a sequence without stop ids. */
    public static TokenStops maxTokensOnly(int maxTokens) {
        return new TokenStops(maxTokens, new int[0]);
    }

    /** Why the sequence ends with {@code token} as its {@code numOutputTokens}-th generated token, or null. */
    public StopReason check(int token, int numOutputTokens) {
        if (numOutputTokens >= maxTokens) {
            return StopReason.LENGTH;
        }
        for (int id : stopTokenIds) {
            if (id == token) {
                return StopReason.STOP;
            }
        }
        return null;
    }
}
