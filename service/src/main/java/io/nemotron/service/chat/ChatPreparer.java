package io.nemotron.service.chat;

import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.PromptBuilder;
import io.nemotron.core.chat.Thinking;
import io.nemotron.core.tokenizer.Tokenizer;
import io.nemotron.service.rag.DocumentPrompts;

/**
 * The one chat preparation every entry point shares (the Chat RPC, the HTTP API, {@code generate --chat-request},
 * {@code prompt}): fold documents through the RAG assembler, render with the model's chat format, tokenize, decide
 * the reasoning mode and the sampling defaults. No transport types: adapters map their request in and the
 * {@link PreparedChat} out, and request errors come out as {@link io.nemotron.core.chat.ChatRequestException} or
 * IllegalArgumentException naming the field, as the parts below throw them.
 */
public final class ChatPreparer {
    private final PromptBuilder prompts;
    private final Tokenizer tokenizer;
    private final DocumentPrompts documents;
    private final int contextLength;

    public ChatPreparer(PromptBuilder prompts, Tokenizer tokenizer, DocumentPrompts documents, int contextLength) {
        this.prompts = prompts;
        this.tokenizer = tokenizer;
        this.documents = documents;
        this.contextLength = contextLength;
    }

    /** A preparer for a model folder's chat format and tokenizer (the CLI's entry points). */
    public static ChatPreparer of(PromptBuilder prompts, Tokenizer tokenizer, int contextLength) {
        return new ChatPreparer(prompts, tokenizer, DocumentPrompts.of(tokenizer), contextLength);
    }

    /** @param maxTokens the request's answer limit, or null: it sizes the room documents may take */
    public PreparedChat prepare(ChatRequest request, Integer maxTokens) {
        DocumentPrompts.Folded folded = documents.fold(request, prompts::build, contextLength, maxTokens);
        ChatRequest chat = folded.request();
        String prompt = prompts.build(chat);
        // the rendered prompt already holds the BOS text: no second BOS
        int[] ids = tokenizer.encode(prompt, false);
        Thinking mode = prompts.effectiveThinking(chat);
        return new PreparedChat(chat, prompt, ids, mode, SamplingDefaults.of(mode), folded.context());
    }
}
