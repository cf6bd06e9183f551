package io.nemotron.core.engine;

import io.nemotron.core.sampling.SamplingBatch;
import io.nemotron.core.tokenizer.IncrementalDetokenizer;
import io.nemotron.core.tokenizer.Tokenizer;
import java.util.List;

/**
 * What follows one sequence's sampled token: its sampling state (penalties, seed and step of the next draw),
 * incremental detokenizing and stop checks. The one definition shared by the serving {@link Engine} and the
 * single-sequence {@link Generator}, so both stop, hold back and release text identically. Not thread-safe.
 */
final class SequenceOutput {
    /** One sampled token: the text it releases, and (when the sequence ended) why and the text flushed at the end. */
    record Step(int token, String text, StopReason finished, String finalText) {}

    private final SamplingParams params;
    private final SamplingState sampling;
    private final StopChecker stops;
    private final IncrementalDetokenizer detokenizer;   // null: the model has no tokenizer, no text

    SequenceOutput(SamplingParams params, int[] promptIds, List<Integer> eosTokenIds, Tokenizer tokenizer) {
        this.params = params;
        this.sampling = new SamplingState(params, promptIds);
        this.stops = new StopChecker(params, eosTokenIds);
        this.detokenizer = tokenizer == null ? null : IncrementalDetokenizer.withContext(tokenizer, true, promptIds);
    }

    /** Adds this sequence's next draw (settings, seed, step, penalty ids) to the step's sampling batch. */
    void addSamplingRow(SamplingBatch batch) {
        sampling.addRow(batch);
    }

    /** Advances the sampling, stop and text state by the token the sampling op drew for this sequence. */
    Step next(int token) {
        sampling.accept(token);
        String delta = detokenizer == null ? "" : detokenizer.next(token);
        StopDecision decision = stops.accept(token, delta);
        if (!decision.finished()) {
            return new Step(token, decision.text(), null, null);
        }
        // a sequence may end inside a multi-byte character: flush what the detokenizer holds, unless a stop string
        // cut the text (everything after it is dropped)
        String tail = detokenizer != null && decision.stopString() == null ? detokenizer.flush() : "";
        return new Step(token, decision.text(), decision.reason(), tail);
    }
}
