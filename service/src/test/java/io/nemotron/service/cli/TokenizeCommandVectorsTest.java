package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Must-show 4 through the CLI: `tokenize` prints exactly the reference ids of every shared vector. Slow (one
 * tokenizer load per run, ~1 s for Llama-3.1's 9 MB tokenizer.json): the library-level twin is TokenizerReferenceTest.
 */
@Tag("slow")
class TokenizeCommandVectorsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static JsonNode read(String relative) throws Exception {
        return JSON.readTree(Files.readString(CliRun.reference(relative)));
    }

    private static String expected(JsonNode ids) {
        return StreamSupport.stream(ids.spliterator(), false).map(JsonNode::asString)
                .collect(Collectors.joining(",", "[", "]"));
    }

    private static void check(String tokenizer, String text, boolean special, JsonNode ids, String what) {
        CliRun run = special
                ? CliRun.of("tokenize", "--tokenizer", tokenizer, "--text", text, "--add-special-tokens")
                : CliRun.of("tokenize", "--tokenizer", tokenizer, "--text", text);
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(expected(ids), run.out().strip(), what + ": " + text);
    }

    @Test
    void everyLlama3VectorWithTheLlama31Tokenizer() throws Exception {
        String tok = CliRun.reference("llama-3.1-tokenizer").toString();
        int n = 0;
        for (String file : new String[] {"tokenizer-vectors/llama-bpe-shared.json", "tokenizer-vectors/llama-bpe-more.json"}) {
            for (JsonNode c : read(file)) {
                check(tok, c.get("text").asString(), false, c.get("ids"), file);
                n++;
            }
        }
        for (JsonNode c : read("tokenizer-vectors/meta-llama3-tests.json").get("cases")) {
            if (c.get("call").asString().startsWith("encode(text, bos=True, eos=False)")) {
                check(tok, c.get("text").asString(), true, c.get("ids"), "meta-llama3-tests");
                n++;
            }
        }
        assertEquals(47, n, "46 llama.cpp cases + Meta's bos-only encode case");
    }

    @Test
    void everyStories260kCaseWithItsOwnTokenizer() throws Exception {
        String tok = CliRun.reference("stories260k/hf").toString();
        int n = 0;
        for (JsonNode c : read("stories260k/tokenizer_cases.json").get("cases")) {
            check(tok, c.get("text").asString(), true, c.get("ids_with_bos"), "stories260k");
            n++;
        }
        assertEquals(25, n);
    }
}
