package io.nemotron.core.engine;

import io.nemotron.core.tokenizer.IncrementalDetokenizer;
import io.nemotron.core.tokenizer.Tokenizer;

/**
 * The text side of one sequence: incremental detokenizing and stop strings, for tokens whose token-level stop the
 * step side already decided ({@link TokenStops}). The serving engine runs it in its output stage, off the step
 * thread; the single-sequence {@link Generator} runs it inline; both stop, hold back and release text identically.
 * Not thread-safe.
 */
final class SequenceText {
    /**
     * What one token released: its text, and when the sequence ended, why, whether a stop string ended it (the step
     * side does not know yet: it must drop the sequence), and the text flushed at the end.
     */
    record Step(String text, StopReason finished, boolean byStopString, String finalText) {}

    private final StopChecker stops;
    private final IncrementalDetokenizer detokenizer;   // null: the model has no tokenizer, no text

    SequenceText(SamplingParams params, int[] promptIds, Tokenizer tokenizer) {
        this.stops = new StopChecker(params.stop());
        this.detokenizer = tokenizer == null ? null : IncrementalDetokenizer.withContext(tokenizer, true, promptIds);
    }

    /** @param byToken the token-level stop the step side found on this token, or null */
    Step accept(int token, StopReason byToken) {
        String delta = detokenizer == null ? "" : detokenizer.next(token);
        StopDecision decision = stops.accept(token, delta, byToken);
        if (!decision.finished()) {
            return new Step(decision.text(), null, false, null);
        }
        // a sequence may end inside a multi-byte character: flush what the detokenizer holds, unless a stop string
        // cut the text (everything after it is dropped)
        boolean byStopString = decision.stopString() != null;
        String tail = detokenizer != null && !byStopString ? detokenizer.flush() : "";
        return new Step(decision.text(), decision.reason(), byStopString, tail);
    }
}
