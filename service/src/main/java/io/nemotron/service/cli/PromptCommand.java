package io.nemotron.service.cli;

import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.ChatRequestException;
import io.nemotron.core.chat.ChatRequestParser;
import io.nemotron.core.chat.PromptBuilder;
import io.nemotron.core.chat.jinja.RaisedException;
import io.nemotron.core.chat.jinja.TemplateException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./nemotron prompt (--model DIR | --template FILE) --chat-request FILE}: prints the exact prompt text the
 * chat request renders to, as UTF-8 with no trailing newline, so it can be diffed or tokenized byte for byte.
 * With {@code --template} the special tokens are Llama 3's {@code <|begin_of_text|>} and {@code <|eot_id|>}.
 */
@Command(name = "prompt", mixinStandardHelpOptions = true,
        description = "Print the exact prompt text of a chat request (the model's chat template, or a template file).")
final class PromptCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--model", paramLabel = "DIR", required = true,
                description = "checkpoint folder: its tokenizer_config.json chat template and bos/eos tokens")
        Path model;

        @Option(names = "--template", paramLabel = "FILE", required = true, description = "a Jinja chat template file")
        Path template;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--chat-request", paramLabel = "FILE", required = true,
            description = "chat request JSON: {\"messages\": [...], \"tools\": [...], \"thinking\": \"on|off\", ...}")
    Path chatRequest;

    @Override
    public Integer call() throws IOException {
        ChatRequest request = readRequest();
        PromptBuilder builder = source.model != null ? PromptBuilder.forModel(source.model)
                : PromptBuilder.forTemplate(readFile(source.template, "template"));
        String prompt;
        try {
            prompt = builder.build(request);
        } catch (ChatRequestException e) {
            throw new IllegalArgumentException(chatRequest + ": " + e.getMessage(), e);
        } catch (RaisedException e) {
            throw new IllegalArgumentException("the chat template refused this conversation: " + e.getMessage(), e);
        } catch (TemplateException e) {
            throw new IllegalArgumentException("chat template " + templateName() + ": " + e.getMessage(), e);
        }
        // raw UTF-8 bytes: the console's encoding must not alter special tokens or non-ASCII text
        PrintStream out = System.out;
        out.write(prompt.getBytes(StandardCharsets.UTF_8));
        out.flush();
        return 0;
    }

    private ChatRequest readRequest() {
        String json = readFile(chatRequest, "chat request");
        try {
            return ChatRequestParser.parse(json);
        } catch (ChatRequestException e) {
            throw new IllegalArgumentException(chatRequest + ": " + e.getMessage(), e);
        }
    }

    private String templateName() {
        return source.model != null ? "of " + source.model : source.template.toString();
    }

    private static String readFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(what + " file not found: " + file);
        }
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + what + " file " + file + ": " + e.getMessage(), e);
        }
    }
}
