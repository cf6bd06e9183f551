package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code ./nemotron tokenize} against the shared tokenizer vectors (reference/tokenizer-vectors, stories260k). */
class TokenizeCommandTest {

    private static String llamaDir() {
        return CliRun.reference("llama-3.1-tokenizer").toString();
    }

    /** Runs the CLI with an empty stdin. */
    private static CliRun run(String... args) {
        return CliRun.withStdin(new ByteArrayInputStream(new byte[0]), args);
    }

    @Test
    void textWithoutSpecialTokens() {
        // llama-bpe-shared.json: "Hello, world!" -> 9906 11 1917 0
        CliRun r = run("tokenize", "--tokenizer", llamaDir(), "--text", "Hello, world!");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("[9906,11,1917,0]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void addSpecialTokensPrependsBos() {
        // meta-llama3-tests.json: encode("alpha beta gamma", bos=True, eos=False)
        CliRun r = run("tokenize", "--tokenizer", llamaDir() + "/tokenizer.json", "--text", "alpha beta gamma",
                "--add-special-tokens");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("[128000,7288,13746,22350]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void textFromStdinIsUtf8() {
        // llama-bpe-shared.json: " this is 🦙.cpp" -> 420 374 11410 99 247 13 11055
        InputStream stdin = new ByteArrayInputStream(" this is 🦙.cpp".getBytes(StandardCharsets.UTF_8));
        CliRun r = CliRun.withStdin(stdin, "tokenize", "--tokenizer", llamaDir(), "--text", "-");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("[420,374,11410,99,247,13,11055]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void storiesTokenizerWithBos() {
        // stories260k/tokenizer_cases.json: "Once upon a time" -> 1 403 407 261 378
        CliRun r = run("tokenize", "--tokenizer", CliRun.reference("stories260k/hf").toString(),
                "--text", "Once upon a time", "--add-special-tokens");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("[1,403,407,261,378]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void emptyTextIsAnEmptyArray() {
        CliRun r = run("tokenize", "--tokenizer", llamaDir(), "--text", "");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("[]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void missingTokenizerIsAnErrorNamingThePath() {
        CliRun r = run("tokenize", "--tokenizer", "/no/such/model", "--text", "hi");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("/no/such/model"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void folderWithoutTokenizerJsonIsAnError() {
        CliRun r = run("tokenize", "--tokenizer", CliRun.reference("tokenizer-vectors").toString(), "--text", "hi");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("tokenizer.json"), r.err());
    }

    @Test
    void missingTextIsAUsageError() {
        CliRun r = run("tokenize", "--tokenizer", llamaDir());
        assertTrue(r.exitCode() != 0);
        assertTrue(r.err().contains("--text"), r.err());
    }
}
