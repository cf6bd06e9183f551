package io.nemotron.service.cli;

import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.ChatRequestParser;
import io.nemotron.core.chat.PromptBuilder;
import io.nemotron.core.chat.Thinking;
import io.nemotron.core.runtime.LoadedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code generate --chat-request FILE}: renders the request with the checkpoint's own chat format, then tokenizes. */
final class ChatPromptInput {
    private ChatPromptInput() {}

    static GenerateCommand.PromptInput render(Path file, LoadedModel model) {
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
        String prompt = PromptBuilder.forModel(model.dir()).build(request);
        // the rendered prompt already holds <|begin_of_text|>: no second BOS
        int[] ids = model.tokenizer().encode(prompt, false);
        // the effective mode is what the prompt says: Ultra's template defaults to "detailed thinking on"
        boolean thinking = request.thinking() != null ? request.thinking() == Thinking.ON
                : prompt.contains("detailed thinking on");
        return new GenerateCommand.PromptInput(ids, thinking);
    }
}
