package io.nemotron.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.chat.ChatMessage;
import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.PromptBuilder;
import io.nemotron.core.chat.Role;
import io.nemotron.core.tokenizer.IncrementalDetokenizer;
import io.nemotron.core.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated tokenizer as DJL's HF binding loads it: specials, round trips, BOS, streaming decode. */
class DemoTokenizerTest {
    private static final List<String> TEXTS = List.of(
            "Hello, world!",
            "The server reads a request and streams the answer.",
            "naïve café, crème brûlée, Ångström, ¿qué tal? Straße",
            "日本語のテキスト、中文文本，한국어 텍스트",
            "emoji 🙂👍🏽 family 👨‍👩‍👧 flags 🇫🇷🇯🇵",
            "  leading spaces,\ttabs\t\tand   runs   \n\n\nof newlines \r\n trailing   ",
            "code: for (int i = 0; i < n; i++) { sum += a[i]; } // 42 % 7 == 0",
            "mixed Ελληνικά кириллица עברית العربية हिन्दी",
            "\u0000 control \u0007 chars \u001b[0m and U+FFFD \uFFFD itself");

    @TempDir
    static Path dir;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void write() throws Exception {
        DemoTokenizer.write(dir);
        // the chat format is chosen from config.json (nemotron-nas -> Llama-Nemotron built-in format)
        Files.writeString(dir.resolve("config.json"), DemoModel.configJson());
        tokenizer = Tokenizer.load(dir);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void vocabularyMatchesTheModelAndBosEosAreLlamaThree() {
        assertEquals(DemoTokenizer.VOCAB_SIZE, tokenizer.vocabSize());
        assertEquals(DemoModel.config().vocabSize(), tokenizer.vocabSize());
        assertEquals(DemoTokenizer.id("<|begin_of_text|>"), tokenizer.bosTokenId().orElseThrow());
        assertEquals(DemoTokenizer.id("<|eot_id|>"), tokenizer.eosTokenId().orElseThrow());
        assertEquals(DemoTokenizer.SPECIAL_COUNT, tokenizer.specialTokenIds().length);
        assertTrue(DemoModel.config().eosTokenIds().contains(DemoTokenizer.id("<|eot_id|>")));
    }

    @Test
    void everySpecialTokenEncodesToExactlyItsOwnId() {
        List<String> specials = DemoTokenizer.specialTokens();
        assertTrue(specials.containsAll(List.of("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>", "<|reserved_special_token_3|>")));
        for (String token : specials) {
            int id = DemoTokenizer.id(token);
            assertArrayEquals(new int[] {id}, tokenizer.encode(token, false), token);
            assertEquals(token, tokenizer.token(id));
            assertTrue(tokenizer.isSpecial(id), token);
            assertEquals(token, tokenizer.decode(new int[] {id}, false));
        }
    }

    @Test
    void arbitraryUtf8RoundTripsExactly() {
        for (String text : TEXTS) {
            int[] ids = tokenizer.encode(text, false);
            assertEquals(text, tokenizer.decode(ids, false), text);
            assertTrue(Arrays.stream(ids).allMatch(id -> id >= 0 && id < DemoTokenizer.VOCAB_SIZE - DemoTokenizer.SPECIAL_COUNT));
        }
    }

    @Test
    void learnedMergesCompressEnglish() {
        String text = "The server reads a request, turns the words into numbers and streams the answer.";
        int[] ids = tokenizer.encode(text, false);
        // whole common words are single tokens: far fewer ids than bytes
        assertTrue(ids.length * 3 < text.getBytes(StandardCharsets.UTF_8).length, ids.length + " ids");
        assertTrue(tokenizer.tokenId("Ġthe").isPresent());
    }

    @Test
    void addSpecialTokensPrependsOneBos() {
        int[] ids = tokenizer.encode("Hello", true);
        assertEquals(DemoTokenizer.id("<|begin_of_text|>"), ids[0]);
        assertArrayEquals(tokenizer.encode("Hello", false), Arrays.copyOfRange(ids, 1, ids.length));
    }

    @Test
    void renderedChatPromptTokenizesWithExactlyOneBos() {
        String prompt = PromptBuilder.forModel(dir).build(ChatRequest.of(List.of(
                ChatMessage.of(Role.SYSTEM, "You are a helpful assistant."),
                ChatMessage.of(Role.USER, "What is the capital of France?"))));
        int[] ids = tokenizer.encode(prompt, false);
        int bos = DemoTokenizer.id("<|begin_of_text|>");
        assertEquals(bos, ids[0]);
        assertEquals(1, Arrays.stream(ids).filter(id -> id == bos).count());
        assertEquals(2, Arrays.stream(ids).filter(id -> id == DemoTokenizer.id("<|eot_id|>")).count());
        assertEquals(3, Arrays.stream(ids).filter(id -> id == DemoTokenizer.id("<|start_header_id|>")).count());
        assertEquals(prompt, tokenizer.decode(ids, false));
    }

    @Test
    void incrementalDetokenizerReproducesDecode() {
        for (boolean skip : new boolean[] {true, false}) {
            for (String text : TEXTS) {
                int[] ids = tokenizer.encode("<|start_header_id|>" + text + "<|eot_id|>", false);
                IncrementalDetokenizer detok = new IncrementalDetokenizer(tokenizer, skip);
                StringBuilder out = new StringBuilder();
                for (int id : ids) {
                    String delta = detok.next(id);
                    assertTrue(delta.indexOf('\uFFFD') < 0 || text.indexOf('\uFFFD') >= 0, "partial character in " + delta);
                    out.append(delta);
                }
                out.append(detok.flush());
                assertEquals(tokenizer.decode(ids, skip), out.toString(), text);
            }
        }
    }

    @Test
    void generationIsDeterministic() {
        assertEquals(DemoTokenizer.tokenizerJson(), DemoTokenizer.tokenizerJson());
    }
}
