package io.nemotron.core.sampling;

/**
 * Log-probabilities for one generated token under the raw model distribution.
 *
 * @param tokenId     the chosen id
 * @param logprob     its log-probability
 * @param topIds      the most likely ids, most likely first (ties: lower id first)
 * @param topLogprobs their log-probabilities, same order
 */
public record SampledLogprobs(int tokenId, float logprob, int[] topIds, float[] topLogprobs) {}
