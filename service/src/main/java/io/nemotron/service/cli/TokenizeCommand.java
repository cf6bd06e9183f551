package io.nemotron.service.cli;

import io.nemotron.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ./nemotron tokenize}: prints the ids of a text as a JSON array, e.g. {@code [128000,9906]}. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text as a JSON array.")
final class TokenizeCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--tokenizer", required = true, paramLabel = "DIR|FILE",
            description = "A model folder holding tokenizer.json, or the tokenizer.json file.")
    private Path tokenizerPath;

    @Option(names = "--text", required = true, paramLabel = "TEXT",
            description = "The text to encode; '-' reads standard input (UTF-8) to its end.")
    private String text;

    @Option(names = "--add-special-tokens",
            description = "Apply the tokenizer's post-processor (adds BOS for Llama models).")
    private boolean addSpecialTokens;

    @Override
    public Integer call() throws IOException {
        if (!Files.exists(tokenizerPath)) {
            throw new IllegalArgumentException("--tokenizer " + tokenizerPath + ": no such file or folder");
        }
        String input = "-".equals(text) ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8) : text;
        int[] ids;
        try (Tokenizer tokenizer = Tokenizer.load(tokenizerPath)) {
            ids = tokenizer.encode(input, addSpecialTokens);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(toJson(ids));
        out.flush();
        return 0;
    }

    static String toJson(int[] ids) {
        StringBuilder json = new StringBuilder(ids.length * 7 + 2).append('[');
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                json.append(',');
            }
            json.append(ids[i]);
        }
        return json.append(']').toString();
    }
}
