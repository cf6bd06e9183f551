package io.nemotron.service.cli;

import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.ChatRequestParser;
import io.nemotron.core.chat.PromptBuilder;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.service.chat.ChatPreparer;
import io.nemotron.service.chat.PreparedChat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * {@code generate --chat-request FILE}: a thin adapter over {@link ChatPreparer}, the Chat RPC's own preparation
 * (documents through the RAG assembler, the checkpoint's chat format, the effective thinking mode).
 */
final class ChatPromptInput {
    private ChatPromptInput() {}

    static GenerateCommand.PromptInput render(Path file, LoadedModel model) {
        return render(file, model, null);
    }

    /** @param maxTokens the answer's limit, or null: documents leave room for it */
    static GenerateCommand.PromptInput render(Path file, LoadedModel model, Integer maxTokens) {
        String json;
        try {
            json = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("--chat-request " + file + ": cannot read (" + e.getMessage() + ")");
        }
        ChatRequest request;
        try {
            request = ChatRequestParser.parse(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
        PreparedChat chat;
        try {
            chat = ChatPreparer.of(PromptBuilder.forModel(model.dir()), model.tokenizer(),
                    model.config().maxPositionEmbeddings()).prepare(request, maxTokens);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        if (!chat.context().dropped().isEmpty()) {
            System.err.println("documents left out: " + chat.context().dropped().stream()
                    .map(d -> d.id() + " (" + d.reason() + ")").collect(Collectors.joining(", ")));
        }
        return new GenerateCommand.PromptInput(chat.ids(), chat.thinking());
    }
}
