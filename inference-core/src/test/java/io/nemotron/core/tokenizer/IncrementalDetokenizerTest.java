package io.nemotron.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.nemotron.core.testing.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The streaming invariant, checked against the tokenizer's own full decode (the Rust library is the oracle):
 * concatenated deltas + flush == decode(all ids), and no delta shows U+FFFD unless the full text has one.
 */
class IncrementalDetokenizerTest {
    private static final List<String> TEXTS = List.of(
            "Hello, world!",
            "naïve café, déjà vu, Ångström, façade",
            "日本語のテキストと中文文本，还有한국어 텍스트",
            "emoji 🦙🔥👩‍👩‍👧‍👦 and flags 🇫🇷🇯🇵 done",
            "math ∑∫√∞ ≠ ≈ and arrows → ⇒",
            "<|start_header_id|>user<|end_header_id|>\n\nHi 😀<|eot_id|>",
            "  leading spaces\tand\ttabs\n\nnew lines   ");

    private static Tokenizer llama;
    private static Tokenizer stories;

    @BeforeAll
    static void load() {
        llama = Tokenizer.load(Reference.path("llama-3.1-tokenizer"));
        stories = Tokenizer.load(Reference.path("stories260k/hf"));
    }

    @AfterAll
    static void close() {
        llama.close();
        stories.close();
    }

    @Test
    void byteLevelEmojiIsHeldUntilComplete() {
        // " 🦙" is [11410, 99, 247] in llama-bpe-shared.json: " " + F0 9F, then A6, then 99.
        IncrementalDetokenizer d = new IncrementalDetokenizer(llama, false);
        assertEquals("", d.next(11410));
        assertEquals("", d.next(99));
        assertEquals(" 🦙", d.next(247));
        assertEquals("", d.flush());
    }

    @Test
    void byteFallbackCharacterIsHeldUntilTheByteRunEnds() {
        // stories260K: byte token <0xNN> has id 3 + NN; "é" is C3 A9. A run of byte pieces decodes as a whole
        // (a following invalid byte would turn it all into U+FFFD), so "é" shows when a normal piece ends the run.
        int pieceOnce = stories.tokenId("▁Once").orElseThrow();
        int pieceUpon = stories.tokenId("▁upon").orElseThrow();
        IncrementalDetokenizer d = new IncrementalDetokenizer(stories, true);
        assertEquals("Once", d.next(pieceOnce), "the decoder strips the leading space of the text");
        assertEquals("", d.next(3 + 0xC3));
        assertEquals("", d.next(3 + 0xA9));
        assertEquals("é upon", d.next(pieceUpon));
        assertEquals("", d.flush());
    }

    @Test
    void invalidByteRunDecodesAsAWholeLikeDecode() {
        // 'q' alone is valid, but [71 88] is not: HF's ByteFallback turns both bytes into U+FFFD.
        IncrementalDetokenizer d = new IncrementalDetokenizer(stories, true);
        StringBuilder out = new StringBuilder(d.next(3 + 0x71));
        out.append(d.next(3 + 0x88)).append(d.flush());
        assertEquals("\uFFFD\uFFFD", out.toString());
    }

    @Test
    void unfinishedCharacterAtTheEndIsFlushedAsDecodeDoes() {
        IncrementalDetokenizer d = new IncrementalDetokenizer(stories, true);
        assertEquals("", d.next(3 + 0xE2));
        assertEquals(stories.decode(new int[] {3 + 0xE2}, true), d.flush());
    }

    @Test
    void contextKeepsTheLeadingSpaceOfTheFirstGeneratedToken() {
        int[] prompt = stories.encode("Once upon a", true);
        int time = stories.tokenId("▁time").orElseThrow();
        IncrementalDetokenizer d = IncrementalDetokenizer.withContext(stories, true, prompt);
        assertEquals(" time", d.next(time));
    }

    @Test
    void realTextsStreamToTheirFullDecode() {
        List<String> texts = new ArrayList<>(TEXTS);
        for (String file : new String[] {"tokenizer-vectors/llama-bpe-shared.json", "tokenizer-vectors/llama-bpe-more.json"}) {
            for (JsonNode c : Reference.json(file)) {
                texts.add(c.get("text").asString());
            }
        }
        for (String text : texts) {
            for (boolean skip : new boolean[] {false, true}) {
                assertStreamsLikeDecode(llama, llama.encode(text, true), skip);
                assertStreamsLikeDecode(stories, stories.encode(text, true), skip);
            }
        }
    }

    @Test
    void randomIdSequencesStreamToTheirFullDecode() {
        SplittableRandom random = new SplittableRandom(20240611);
        for (int trial = 0; trial < 300; trial++) {
            int length = 1 + random.nextInt(40);
            boolean skip = random.nextBoolean();
            // Llama-3: mostly single-byte pieces (ids < 256 are the 256 byte symbols), some words, some specials.
            int[] llamaIds = new int[length];
            for (int i = 0; i < length; i++) {
                int kind = random.nextInt(10);
                llamaIds[i] = kind < 6 ? random.nextInt(256) : kind < 9 ? random.nextInt(128000) : 128000 + random.nextInt(256);
            }
            assertStreamsLikeDecode(llama, llamaIds, skip);
            // stories260K: byte-fallback ids 3..258 are half its vocabulary, so random ids split characters often.
            int[] storyIds = new int[length];
            for (int i = 0; i < length; i++) {
                storyIds[i] = random.nextInt(512);
            }
            assertStreamsLikeDecode(stories, storyIds, skip);
        }
    }

    @Test
    void randomSplitsOfValidUtf8NeverShowReplacementCharacters() {
        // Valid multi-byte text spelled byte by byte with stories260K's byte tokens: every character is split.
        SplittableRandom random = new SplittableRandom(7);
        String alphabet = "aé€😀日ß🦙ñ";
        for (int trial = 0; trial < 100; trial++) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 1 + random.nextInt(12); i++) {
                text.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0, random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            }
            byte[] bytes = text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int[] ids = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                ids[i] = 3 + (bytes[i] & 0xFF);
            }
            assertEquals(text.toString(), stories.decode(ids, true));
            assertStreamsLikeDecode(stories, ids, true);
        }
    }

    private static void assertStreamsLikeDecode(Tokenizer tokenizer, int[] ids, boolean skip) {
        String full = tokenizer.decode(ids, skip);
        IncrementalDetokenizer d = new IncrementalDetokenizer(tokenizer, skip);
        StringBuilder streamed = new StringBuilder();
        boolean fullHasReplacement = full.indexOf('\uFFFD') >= 0;
        for (int id : ids) {
            String delta = d.next(id);
            if (!fullHasReplacement) {
                assertFalse(delta.indexOf('\uFFFD') >= 0, () -> "delta with U+FFFD for " + java.util.Arrays.toString(ids));
            }
            streamed.append(delta);
        }
        streamed.append(d.flush());
        assertEquals(full, streamed.toString(), () -> "ids " + java.util.Arrays.toString(ids) + " skip=" + skip);
    }
}
