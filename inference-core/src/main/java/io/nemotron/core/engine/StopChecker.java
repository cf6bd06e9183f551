package io.nemotron.core.engine;

import java.util.List;

/**
 * Decides, token by token, whether one sequence is done, and which text may be streamed so far.
 *
 * <p>Stop strings are matched on the detokenized text, so they are found even when split over tokens. Text that
 * could still be the start of a stop string is held back (only the longest such suffix, so normal text is not
 * delayed); the matched stop string and anything after it are never emitted (vLLM's default,
 * {@code include_stop_str_in_output=false}).
 *
 * <p>Precedence on one token: a stop string found in the text; else max_tokens reached ({@code length}, as in
 * vLLM v1, even when that last token is EOS); else an EOS id (unless ignore_eos) or a stop token id.
 * Held-back text is released when the sequence finishes for a reason other than a stop string.
 * One instance per sequence; not thread-safe.
 */
public final class StopChecker {
    private final List<String> stops;
    private final TokenStops tokenStops;   // null for the output stage's text-only checker
    private final StringBuilder held = new StringBuilder();
    private int generated;
    private boolean finished;

    /** {@code eosTokenIds} are the model's (config.json / generation_config.json). */
    public StopChecker(SamplingParams params, List<Integer> eosTokenIds) {
        this.stops = params.stop();
        this.tokenStops = TokenStops.of(params, eosTokenIds);
    }

    /** The text half alone: the token-level stops are decided on the step thread and passed to the 3-arg accept. */
    StopChecker(List<String> stopStrings) {
        this.stops = stopStrings;
        this.tokenStops = null;
    }

    /** Call once per generated token, with the text delta the incremental detokenizer gave for it. */
    public StopDecision accept(int tokenId, String delta) {
        return accept(tokenId, delta, tokenStops.check(tokenId, generated + 1));
    }

    /**
     * The text half for a token whose token-level stop ({@link TokenStops}, or null) is already decided: a stop string
     * in the text takes precedence over it, and otherwise it ends the sequence with all held text released.
     */
    StopDecision accept(int tokenId, String delta, StopReason byToken) {
        if (finished) {
            throw new IllegalStateException("sequence already finished");
        }
        generated++;
        held.append(delta);
        StopDecision byString = matchStopString();
        if (byString != null) {
            return finish(byString);
        }
        if (byToken == StopReason.LENGTH) {
            return finish(new StopDecision(releaseAll(), StopReason.LENGTH, null, -1));
        }
        if (byToken == StopReason.STOP) {
            return finish(new StopDecision(releaseAll(), StopReason.STOP, null, tokenId));
        }
        return StopDecision.running(releaseSafePrefix());
    }

    private StopDecision finish(StopDecision decision) {
        finished = true;
        return decision;
    }

    // Held text never contains a whole stop string (it would have matched on an earlier token), and the text
    // emitted earlier has no suffix that starts one (that suffix would have been held), so any match starts
    // inside the held text: searching it alone finds every match.
    private StopDecision matchStopString() {
        int bestStart = -1;
        String best = null;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (bestStart < 0 || at < bestStart)) {
                bestStart = at;
                best = stop;
            }
        }
        if (best == null) {
            return null;
        }
        String text = held.substring(0, bestStart);
        held.setLength(0);
        return new StopDecision(text, StopReason.STOP, best, -1);
    }

    private String releaseAll() {
        String text = held.toString();
        held.setLength(0);
        return text;
    }

    /** Emits all held text except its longest suffix that is a proper prefix of some stop string. */
    private String releaseSafePrefix() {
        int keep = 0;
        for (String stop : stops) {
            int max = Math.min(stop.length() - 1, held.length());
            for (int len = max; len > keep; len--) {
                if (endsWith(held, stop, len)) {
                    keep = len;
                    break;
                }
            }
        }
        String text = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return text;
    }

    // True when the last len chars of text equal the first len chars of stop.
    private static boolean endsWith(CharSequence text, String stop, int len) {
        int offset = text.length() - len;
        for (int i = 0; i < len; i++) {
            if (text.charAt(offset + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
