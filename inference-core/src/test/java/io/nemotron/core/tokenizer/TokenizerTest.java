package io.nemotron.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.testing.Reference;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Vocabulary, special tokens, and the guarantee that no truncation or padding applies. */
class TokenizerTest {
    private static Tokenizer llama;
    private static Tokenizer stories;

    @BeforeAll
    static void load() {
        // One loaded from the folder, one from the file itself: both forms are supported.
        llama = Tokenizer.load(Reference.path("llama-3.1-tokenizer"));
        stories = Tokenizer.load(Reference.path("stories260k/hf").resolve("tokenizer.json"));
    }

    @AfterAll
    static void close() {
        llama.close();
        stories.close();
    }

    @Test
    void llamaVocabularyAndSpecialTokens() {
        // 128000 BPE tokens + 256 special ones (reference/llama-3.1-tokenizer/SOURCE.md).
        assertEquals(128256, llama.vocabSize());
        assertEquals(OptionalInt.of(128000), llama.bosTokenId());
        assertEquals(OptionalInt.of(128009), llama.eosTokenId(), "tokenizer_config.json eos_token is <|eot_id|>");
        assertEquals(OptionalInt.of(128006), llama.tokenId("<|start_header_id|>"));
        assertEquals("<|begin_of_text|>", llama.token(128000));
        assertEquals(OptionalInt.of(9906), llama.tokenId("Hello"));
        assertEquals(OptionalInt.empty(), llama.tokenId("no such token"));
        assertTrue(llama.isSpecial(128000));
        assertTrue(llama.isSpecial(128255));
        assertFalse(llama.isSpecial(9906));
        assertFalse(llama.isSpecial(-1));
        assertEquals(256, llama.specialTokenIds().length);
    }

    @Test
    void storiesSpecialTokensFromConfig() {
        assertEquals(512, stories.vocabSize());
        assertEquals(OptionalInt.of(1), stories.bosTokenId());
        assertEquals(OptionalInt.of(2), stories.eosTokenId());
        assertArrayEquals(new int[] {0, 1, 2}, stories.specialTokenIds());
        assertEquals("<0xE2>", stories.token(3 + 0xE2), "ids 3..258 are the byte-fallback tokens");
    }

    @Test
    void longTextIsNeitherTruncatedNorPadded() {
        // " Hello world" is [22691, 1917] (llama-bpe-shared.json) and pre-tokenization splits it per word,
        // so 600 copies are exactly 600 copies of the pair: 1200 ids, far past DJL's default 512.
        int[] ids = llama.encode(" Hello world".repeat(600), false);
        assertEquals(1200, ids.length);
        for (int i = 0; i < ids.length; i += 2) {
            assertEquals(22691, ids[i]);
            assertEquals(1917, ids[i + 1]);
        }
        // stories260K's tokenizer_config.json says model_max_length 512; that must not cut prompts either.
        String story = "Once upon a time, there was a little girl. ".repeat(80);
        int[] storyIds = stories.encode(story, true);
        assertTrue(storyIds.length > 512, "got " + storyIds.length);
        assertEquals(story, stories.decode(storyIds, true));
    }

    @Test
    void encodeWithoutSpecialTokensAddsNoBos() {
        assertArrayEquals(new int[] {9906, 11, 1917, 0}, llama.encode("Hello, world!", false));
        assertArrayEquals(new int[] {128000, 9906, 11, 1917, 0}, llama.encode("Hello, world!", true));
    }

    @Test
    void decodeSkipsSpecialTokensOnRequest() {
        int[] ids = {128000, 9906, 11, 1917, 0, 128009};
        assertEquals("<|begin_of_text|>Hello, world!<|eot_id|>", llama.decode(ids, false));
        assertEquals("Hello, world!", llama.decode(ids, true));
    }

    @Test
    void errorsNameTheBadInput() {
        Path missing = Path.of("/nonexistent/model");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(missing));
        assertTrue(e.getMessage().contains("/nonexistent/model"), e.getMessage());
        TokenizerException bad = assertThrows(TokenizerException.class, () -> llama.decode(new int[] {5, 128256}, false));
        assertTrue(bad.getMessage().contains("128256"), bad.getMessage());
        assertThrows(TokenizerException.class, () -> llama.token(200000));
    }
}
