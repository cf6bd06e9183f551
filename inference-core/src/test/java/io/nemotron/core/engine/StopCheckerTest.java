package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopCheckerTest {
    private static final List<Integer> EOS = List.of(128001, 128009);

    private static StopChecker checker(SamplingParams.Builder b) {
        return new StopChecker(b.build().validate(), EOS);
    }

    @Test
    void stopStringSplitAcrossDeltasIsRemoved() {
        StopChecker c = checker(SamplingParams.builder().maxTokens(100).stop("###"));
        assertEquals("Hello ", c.accept(1, "Hello #").text());
        StopDecision d = c.accept(2, "#");
        assertEquals("", d.text());
        assertFalse(d.finished());
        d = c.accept(3, "# world");
        assertEquals(StopReason.STOP, d.reason());
        assertEquals("###", d.stopString());
        assertEquals("", d.text());
    }

    @Test
    void heldTextThatIsNotAStopIsReleased() {
        StopChecker c = checker(SamplingParams.builder().maxTokens(100).stop("###"));
        assertEquals("a", c.accept(1, "a#").text());
        assertEquals("##b", c.accept(2, "#b").text());
    }

    @Test
    void textBeforeTheEarliestStopIsEmitted() {
        StopChecker c = checker(SamplingParams.builder().maxTokens(100).stop("bar", "STOP"));
        StopDecision d = c.accept(1, "foo STOP bar");
        assertEquals("foo ", d.text());
        assertEquals("STOP", d.stopString());
        assertEquals("stop", d.reason().wireName());
    }

    @Test
    void eosStopsUnlessIgnored() {
        StopDecision d = checker(SamplingParams.builder().maxTokens(10)).accept(128009, "");
        assertEquals(StopReason.STOP, d.reason());
        assertEquals(128009, d.stopTokenId());
        assertFalse(checker(SamplingParams.builder().maxTokens(10).ignoreEos(true)).accept(128009, "").finished());
    }

    @Test
    void stopTokenIdsStopEvenWithIgnoreEos() {
        StopDecision d = checker(SamplingParams.builder().maxTokens(10).ignoreEos(true).stopTokenIds(42)).accept(42, "x");
        assertEquals(StopReason.STOP, d.reason());
        assertEquals("x", d.text());
    }

    @Test
    void maxTokensEndsWithLengthAndReleasesHeldText() {
        StopChecker c = checker(SamplingParams.builder().maxTokens(2).stop("###"));
        assertEquals("a", c.accept(1, "a#").text());
        StopDecision d = c.accept(2, "#");
        assertEquals(StopReason.LENGTH, d.reason());
        assertEquals("##", d.text());
        assertThrows(IllegalStateException.class, () -> c.accept(3, "z"));
    }

    @Test
    void everyTokenBoundaryFindsTheStop() {
        // The stop string ends a known text wherever the deltas are cut: the emitted text is always the prefix.
        String text = "The answer is 42.\nUser: next question";
        for (int cut1 = 0; cut1 < text.length(); cut1++) {
            for (int cut2 = cut1; cut2 < text.length(); cut2++) {
                StopChecker c = checker(SamplingParams.builder().maxTokens(100).stop("\nUser:", "Observation"));
                StringBuilder out = new StringBuilder();
                String[] deltas = {text.substring(0, cut1), text.substring(cut1, cut2), text.substring(cut2)};
                StopDecision d = null;
                for (int i = 0; i < deltas.length && (d == null || !d.finished()); i++) {
                    d = c.accept(i, deltas[i]);
                    out.append(d.text());
                }
                assertTrue(d.finished(), "cuts " + cut1 + "," + cut2);
                assertEquals("The answer is 42.", out.toString(), "cuts " + cut1 + "," + cut2);
            }
        }
    }
}
