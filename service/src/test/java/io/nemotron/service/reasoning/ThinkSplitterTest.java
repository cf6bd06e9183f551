package io.nemotron.service.reasoning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.nemotron.service.grpc.stream.BufferedChatOutput;
import io.nemotron.service.grpc.stream.PlainTextPipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Expected splits written by hand; every text is also fed split at every position and one character at a time. */
class ThinkSplitterTest {

    private static BufferedChatOutput run(boolean on, List<String> chunks) {
        BufferedChatOutput r = new BufferedChatOutput();
        ThinkSplitter s = new ThinkSplitter(r, new PlainTextPipeline(r), on);
        chunks.forEach(s::accept);
        assertFalse(s.finish());
        r.reasoningDeltas.forEach(d -> assertFalse(d.isEmpty()));
        assertEquals(List.of(), r.toolCalls);
        return r;
    }

    private static void check(boolean on, String text, String reasoning, String content) {
        List<List<String>> splits = new ArrayList<>();
        splits.add(List.of(text));
        for (int i = 0; i <= text.length(); i++) {
            splits.add(List.of(text.substring(0, i), text.substring(i)));
        }
        List<String> chars = new ArrayList<>();
        text.codePoints().forEach(c -> chars.add(Character.toString(c)));
        splits.add(chars);
        SplittableRandom rnd = new SplittableRandom(text.hashCode());
        for (int k = 0; k < 20; k++) {
            List<String> parts = new ArrayList<>();
            int i = 0;
            while (i < text.length()) {
                int n = Math.min(text.length() - i, 1 + rnd.nextInt(5));
                parts.add(text.substring(i, i + n));
                i += n;
            }
            splits.add(parts);
        }
        for (List<String> chunks : splits) {
            BufferedChatOutput r = run(on, chunks);
            assertEquals(reasoning, r.reasoning(), () -> "reasoning for " + chunks);
            assertEquals(content, r.content(), () -> "content for " + chunks);
            if (!on) {
                assertEquals(List.of(), r.reasoningDeltas, "thinking off never produces reasoning");
            }
        }
    }

    @Test
    void thinkingOnSplitsTheThinkSectionFromTheAnswer() {
        check(true, "<think>\nThe user greets.\n</think>\n\nHello! How can I help?", "\nThe user greets.\n",
                "\n\nHello! How can I help?");
    }

    @Test
    void emptyThinkSectionGivesNoReasoning() {
        check(true, "<think></think>Hi", "", "Hi");
        check(true, "<think>\n</think>\n\n4", "\n", "\n\n4");
    }

    @Test
    void whitespaceBeforeTheOpeningTagIsFormatting() {
        check(true, "\n <think>a</think>b", "a", "b");
    }

    @Test
    void outputThatDoesNotOpenWithThinkIsAllAnswer() {
        check(true, "Hello <think>x</think>", "", "Hello <think>x</think>");
        check(true, "<thinking>x", "", "<thinking>x");
        check(true, "<thi", "", "<thi");
    }

    @Test
    void aThinkSectionCutOffByMaxTokensEndsAsReasoning() {
        check(true, "<think>step 1</th", "step 1</th", "");
        check(true, "<think>", "", "");
    }

    @Test
    void tagLookalikesInsideTheReasoningStayReasoning() {
        check(true, "<think>a </thin k> b </ c</think>d", "a </thin k> b </ c", "d");
        check(true, "<think><think>x</think></think>", "<think>x", "</think>");
    }

    @Test
    void thinkingOffHasNoReasoningAndLosesNothing() {
        check(false, "<think>\n</think>\n\nHi", "", "\n\nHi");
        check(false, "<think></think>Hi", "", "Hi");
        check(false, "Hi", "", "Hi");
        check(false, "<think>I thought</think>Hi", "", "<think>I thought</think>Hi");
        check(false, "<think>never closed", "", "<think>never closed");
    }

    @Test
    void partialSuffixFindsTheLongestTagPrefix() {
        assertEquals(0, io.nemotron.service.grpc.stream.TagPrefix.partialSuffix("abc", "</think>"));
        assertEquals(1, io.nemotron.service.grpc.stream.TagPrefix.partialSuffix("abc<", "</think>"));
        assertEquals(5, io.nemotron.service.grpc.stream.TagPrefix.partialSuffix("x</thi", "</think>"));
        assertEquals(0, io.nemotron.service.grpc.stream.TagPrefix.partialSuffix("</think>", "</think>"), "a whole tag is not a partial one");
        assertEquals(9, io.nemotron.service.grpc.stream.TagPrefix.partialSuffix("x<TOOLCALL", "<TOOLCALL>"));
    }
}
