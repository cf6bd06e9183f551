package io.nemotron.service.toolcall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Property checks on seeded random input: random markup fragments, truncations and mutations of real BFCL outputs.
 * The parser never throws; content plus the raw text of parsed blocks is the input; any split gives the same events.
 */
class ToolCallPropertiesTest {
    private static final int ITERATIONS = 2000;
    private static final String[] FRAGMENTS = {
            "<TOOLCALL>", "</TOOLCALL>", "<TOOL", "<", ">", "TOOLCALL>", "</", "[", "]", "(", ")", "{", "}", "\"", "'",
            ",", "=", ":", " ", "\n", "\\", "a", "f(x=1)", "g()", "True", "None", "-1.5e3", "\"s\"", "{\"name\": \"f\"}",
            "\"arguments\": {}", "é", "😀", "```", "#", ".", "x=", "'''", "\\u00e9",
    };
    private static final List<BfclCases> BFCL = BfclCases.all();
    private static final List<String> BFCL_OUTPUTS = BFCL.stream().map(BfclCases::modelOutput).toList();

    @Test
    void randomFragmentsNeverBreakTheInvariants() {
        SplittableRandom random = new SplittableRandom(20260526L);
        for (int i = 0; i < ITERATIONS; i++) {
            checkInvariants(randomText(random), ToolCallValidator.syntaxOnly(), random);
        }
    }

    @Test
    void mutatedValidBlocksNeverBreakTheInvariants() {
        SplittableRandom random = new SplittableRandom(7L);
        int parsedBlocks = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            BfclCases c = BFCL.get(random.nextInt(BFCL.size()));
            String text = mutate(random, c.modelOutput());
            if (random.nextBoolean()) {
                text = "intro " + text + (random.nextBoolean() ? " outro" : "");
            }
            // with the case's own tools, so schema checking also meets mutated arguments
            ToolCallValidator validator = new ToolCallValidator(ToolSpecs.fromJson(c.functions()), ToolChoice.AUTO);
            parsedBlocks += checkInvariants(text, validator, random).events.stream()
                    .filter(e -> e instanceof ToolCallBlock).count();
        }
        // the generator must still produce parseable blocks, or the check would only exercise the error path
        assertFalse(parsedBlocks < ITERATIONS / 10, "only " + parsedBlocks + " parsed blocks");
    }

    @Test
    void validBlocksSurroundedByTextStreamWithoutLeakingMarkup() {
        SplittableRandom random = new SplittableRandom(99L);
        for (int i = 0; i < ITERATIONS / 4; i++) {
            String block = BFCL_OUTPUTS.get(random.nextInt(BFCL_OUTPUTS.size()));
            String before = randomPlainText(random);
            String after = randomPlainText(random);
            String text = before + block + after;
            RecordingListener listener = RecordingListener.feed(ToolCallValidator.syntaxOnly(),
                    randomSplit(random, text).toArray(String[]::new));
            assertEquals(before + after, String.join("", listener.contentDeltas), text);
            // with the equality above: no piece of the block's tags leaked into content, even held-back prefixes
            for (String delta : listener.contentDeltas) {
                assertFalse(delta.contains("<TOOLCALL>"), delta);
            }
        }
    }

    private static RecordingListener checkInvariants(String text, ToolCallValidator validator, SplittableRandom random) {
        RecordingListener whole = RecordingListener.feed(validator, text);
        assertEquals(text, whole.reassembled(), "nothing lost: " + text);
        assertEquals(whole.events, RecordingListener.feed(validator, randomSplit(random, text).toArray(String[]::new))
                .events, "random split: " + text);
        if (text.length() <= 40) {
            for (int cut = 0; cut <= text.length(); cut++) {
                assertEquals(whole.events, RecordingListener.feed(validator, text.substring(0, cut),
                        text.substring(cut)).events, "split at " + cut + ": " + text);
            }
            assertEquals(whole.events, RecordingListener.feed(validator, text.split("")).events, "by char: " + text);
        }
        return whole;
    }

    private static String randomText(SplittableRandom random) {
        StringBuilder text = new StringBuilder();
        int pieces = random.nextInt(0, 16);
        for (int p = 0; p < pieces; p++) {
            int kind = random.nextInt(10);
            if (kind < 6) {
                text.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
            } else if (kind < 8) {
                text.appendCodePoint(random.nextInt(0x20, 0x7f));
            } else if (kind < 9) {
                text.append(BFCL_OUTPUTS.get(random.nextInt(BFCL_OUTPUTS.size())));
            } else {
                text.append("<TOOLCALL>[f(a=").append(random.nextInt(-100, 100)).append(")]</TOOLCALL>");
            }
        }
        return text.toString();
    }

    private static String randomPlainText(SplittableRandom random) {
        // near-misses of the tag, but no two words join into one
        String[] words = {"a", " ", "<", "<TOOL", "<TOOLCALL", "OLCALL>", "</TOOLCALL>", "\n", "x>y", "é"};
        StringBuilder text = new StringBuilder();
        for (int i = random.nextInt(0, 6); i > 0; i--) {
            text.append(words[random.nextInt(words.length)]);
        }
        return text.toString();
    }

    /** Truncations, deletions, insertions of markup and duplicated spans. */
    private static String mutate(SplittableRandom random, String text) {
        StringBuilder s = new StringBuilder(text);
        int mutations = random.nextInt(0, 4);
        for (int m = 0; m < mutations && !s.isEmpty(); m++) {
            int at = random.nextInt(s.length() + 1);
            switch (random.nextInt(5)) {
                case 0 -> s.setLength(at);
                case 1 -> s.delete(at, Math.min(s.length(), at + random.nextInt(1, 6)));
                case 2 -> s.insert(at, FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
                case 3 -> s.insert(at, s.substring(at, Math.min(s.length(), at + random.nextInt(1, 20))));
                default -> s.setCharAt(Math.min(at, s.length() - 1), (char) random.nextInt(0x20, 0x7f));
            }
        }
        return s.toString();
    }

    private static List<String> randomSplit(SplittableRandom random, String text) {
        List<String> chunks = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int end = Math.min(text.length(), start + random.nextInt(1, 12));
            chunks.add(text.substring(start, end));
            start = end;
        }
        return chunks;
    }
}
