package io.nemotron.service.cli;

import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.tokenizer.Tokenizer;
import io.nemotron.service.chat.ChatPreparer;
import io.nemotron.service.chat.PreparedChat;
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
        @Option(names = "--model", paramLabel = "DIR|demo", required = true,
                description = "checkpoint folder (or demo): its tokenizer_config.json chat template and bos/eos tokens")
        String model;

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
        Path modelDir = source.model == null ? null : source.model.equals("demo") ? ModelPaths.resolve("demo")
                : folder(Path.of(source.model));
        PromptBuilder builder = modelDir != null ? PromptBuilder.forModel(modelDir)
                : PromptBuilder.forTemplate(readFile(source.template, "template"));
        String prompt;
        try {
            prompt = request.documents().isEmpty() ? builder.build(request) : withDocuments(request, builder, modelDir);
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

    /** A tokenizer folder is enough for the template; config.json is read only when documents need the context length. */
    private static Path folder(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--model " + dir + ": no such folder");
        }
        return dir;
    }

    /** The Chat RPC's own preparation: the model's tokenizer counts the budget, the RAG assembler fills the user turn. */
    private String withDocuments(ChatRequest request, PromptBuilder builder, Path modelDir) {
        if (modelDir == null) {
            throw new IllegalArgumentException(chatRequest + ": documents need --model (its tokenizer and context length "
                    + "size the retrieved context), not --template");
        }
        if (!Files.isRegularFile(modelDir.resolve("config.json"))) {
            throw new IllegalArgumentException(chatRequest + ": documents need the model's config.json (its context "
                    + "length sizes the retrieved context); " + modelDir + " has none");
        }
        int contextLength = ModelConfigLoader.load(modelDir).maxPositionEmbeddings();
        try (Tokenizer tokenizer = Tokenizer.load(modelDir)) {
            PreparedChat chat = ChatPreparer.of(builder, tokenizer, contextLength).prepare(request, null);
            if (!chat.context().dropped().isEmpty()) {
                System.err.println("documents left out: " + chat.context().dropped().stream()
                        .map(d -> d.id() + " (" + d.reason() + ")").collect(java.util.stream.Collectors.joining(", ")));
            }
            return chat.prompt();
        }
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
