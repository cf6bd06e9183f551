package io.nemotron.core.engine;

/**
 * What {@link StopChecker} says after one token.
 *
 * @param text        text to emit now (may be empty: part of a possible stop string is being held back)
 * @param reason      null while the sequence goes on
 * @param stopString  the stop string that matched, or null
 * @param stopTokenId the id among stop_token_ids or EOS ids that matched, or -1
 */
public record StopDecision(String text, StopReason reason, String stopString, int stopTokenId) {

    static StopDecision running(String text) {
        return new StopDecision(text, null, null, -1);
    }

    public boolean finished() {
        return reason != null;
    }
}
