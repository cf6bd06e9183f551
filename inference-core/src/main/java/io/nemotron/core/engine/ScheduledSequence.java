package io.nemotron.core.engine;

/**
 * One sequence's share of a step: rows [startPosition, startPosition + numNewTokens) of its tokens run now.
 *
 * @param samples after this chunk every known token is computed, so the engine samples one token for it (false for
 *                the non-final chunks of a chunked prefill)
 */
public record ScheduledSequence(Sequence sequence, int numNewTokens, int startPosition, boolean samples) {}
