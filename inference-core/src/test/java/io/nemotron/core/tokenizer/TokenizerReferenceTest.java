package io.nemotron.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.testing.Reference;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Every encode case of the shared tokenizer vectors (see reference/tokenizer-vectors/SOURCE.md). */
class TokenizerReferenceTest {
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
    void llamaBpeSharedAndMoreWithoutBos() {
        int checked = 0;
        for (String file : new String[] {"tokenizer-vectors/llama-bpe-shared.json", "tokenizer-vectors/llama-bpe-more.json"}) {
            for (JsonNode c : Reference.json(file)) {
                String text = c.get("text").asString();
                int[] expected = Reference.ints(c.get("ids"));
                assertArrayEquals(expected, llama.encode(text, false), () -> file + ": " + text);
                // Byte-level BPE is lossless, so the oracle text is also the oracle of decode.
                assertEquals(text, llama.decode(expected, false), () -> file + " decode: " + text);
                checked++;
            }
        }
        assertEquals(46, checked, "llama.cpp's 46 llama-bpe cases");
    }

    @Test
    void metaLlama3Cases() {
        JsonNode cases = Reference.json("tokenizer-vectors/meta-llama3-tests.json").get("cases");
        int endOfText = llama.tokenId("<|end_of_text|>").orElseThrow();
        int checked = 0;
        for (JsonNode c : cases) {
            String call = c.get("call").asString();
            int[] ids = Reference.ints(c.get("ids"));
            if (call.startsWith("encode(text, bos=True, eos=True)")) {
                int[] withEos = Arrays.copyOf(llama.encode(c.get("text").asString(), true), ids.length);
                withEos[ids.length - 1] = endOfText;
                assertArrayEquals(ids, withEos, call);
            } else if (call.startsWith("encode(text, bos=True, eos=False)")) {
                assertArrayEquals(ids, llama.encode(c.get("text").asString(), true), call);
            } else if (call.startsWith("decode(ids)")) {
                assertEquals(c.get("text").asString(), llama.decode(ids, false), call);
            } else if (call.startsWith("ChatFormat.encode_message")) {
                String rendered = "<|start_header_id|>user<|end_header_id|>\n\nThis is a test sentence.<|eot_id|>";
                assertArrayEquals(ids, llama.encode(rendered, false), call);
            } else if (call.startsWith("ChatFormat.encode_dialog_prompt")) {
                // The rendered prompt carries its own <|begin_of_text|>: encoding without special tokens
                // must give exactly one BOS, and every header token must stay one id.
                String rendered = "<|begin_of_text|>"
                        + "<|start_header_id|>system<|end_header_id|>\n\nThis is a test sentence.<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nThis is a response.<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n";
                assertArrayEquals(ids, llama.encode(rendered, false), call);
            } else {
                throw new AssertionError("unknown case " + call);
            }
            checked++;
        }
        assertEquals(5, checked);
        JsonNode note = Reference.json("tokenizer-vectors/meta-llama3-tests.json").get("special_token_policy_note");
        assertArrayEquals(Reference.ints(note.get("hf_tokenizers_default_parse_special")),
                llama.encode(note.get("text").asString(), false));
    }

    @Test
    void stories260kCasesWithBos() {
        int checked = 0;
        for (JsonNode c : Reference.json("stories260k/tokenizer_cases.json").get("cases")) {
            String text = c.get("text").asString();
            int[] expected = Reference.ints(c.get("ids_with_bos"));
            assertArrayEquals(expected, stories.encode(text, true), text);
            checked++;
        }
        assertEquals(25, checked);
    }
}
