package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code ./nemotron tokenize} against the shared tokenizer vectors (reference/tokenizer-vectors, stories260k). */
class TokenizeCommandTest {

    private static Path reference() {
        String configured = System.getProperty("nemotron.reference.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of("").toAbsolutePath().getParent().resolve("../shared/reference").normalize();
    }

    private static String llamaDir() {
        return reference().resolve("llama-3.1-tokenizer").toString();
    }

    /** Runs the CLI with {@code stdin}; returns exit code, stdout and stderr. */
    private static Result run(InputStream stdin, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        InputStream oldIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setIn(stdin);
            int code = NemotronCli.run(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.setIn(oldIn);
        }
    }

    private static Result run(String... args) {
        return run(new ByteArrayInputStream(new byte[0]), args);
    }

    private record Result(int code, String out, String err) {}

    @Test
    void textWithoutSpecialTokens() {
        // llama-bpe-shared.json: "Hello, world!" -> 9906 11 1917 0
        Result r = run("tokenize", "--tokenizer", llamaDir(), "--text", "Hello, world!");
        assertEquals(0, r.code(), r.err());
        assertEquals("[9906,11,1917,0]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void addSpecialTokensPrependsBos() {
        // meta-llama3-tests.json: encode("alpha beta gamma", bos=True, eos=False)
        Result r = run("tokenize", "--tokenizer", llamaDir() + "/tokenizer.json", "--text", "alpha beta gamma",
                "--add-special-tokens");
        assertEquals(0, r.code(), r.err());
        assertEquals("[128000,7288,13746,22350]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void textFromStdinIsUtf8() {
        // llama-bpe-shared.json: " this is 🦙.cpp" -> 420 374 11410 99 247 13 11055
        InputStream stdin = new ByteArrayInputStream(" this is 🦙.cpp".getBytes(StandardCharsets.UTF_8));
        Result r = run(stdin, "tokenize", "--tokenizer", llamaDir(), "--text", "-");
        assertEquals(0, r.code(), r.err());
        assertEquals("[420,374,11410,99,247,13,11055]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void storiesTokenizerWithBos() {
        // stories260k/tokenizer_cases.json: "Once upon a time" -> 1 403 407 261 378
        Result r = run("tokenize", "--tokenizer", reference().resolve("stories260k/hf").toString(),
                "--text", "Once upon a time", "--add-special-tokens");
        assertEquals(0, r.code(), r.err());
        assertEquals("[1,403,407,261,378]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void emptyTextIsAnEmptyArray() {
        Result r = run("tokenize", "--tokenizer", llamaDir(), "--text", "");
        assertEquals(0, r.code(), r.err());
        assertEquals("[]\n", r.out().replace("\r\n", "\n"));
    }

    @Test
    void missingTokenizerIsAnErrorNamingThePath() {
        Result r = run("tokenize", "--tokenizer", "/no/such/model", "--text", "hi");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("/no/such/model"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void folderWithoutTokenizerJsonIsAnError() {
        Result r = run("tokenize", "--tokenizer", reference().resolve("tokenizer-vectors").toString(), "--text", "hi");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("tokenizer.json"), r.err());
    }

    @Test
    void missingTextIsAUsageError() {
        Result r = run("tokenize", "--tokenizer", llamaDir());
        assertTrue(r.code() != 0);
        assertTrue(r.err().contains("--text"), r.err());
    }
}
