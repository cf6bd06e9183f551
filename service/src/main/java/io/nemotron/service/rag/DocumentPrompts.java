package io.nemotron.service.rag;

import io.nemotron.core.engine.InvalidRequestException;
import io.nemotron.core.chat.ChatMessage;
import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.Role;
import io.nemotron.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Folds a chat request's documents into its prompt: the budget is what the context has left once the rest of the
 * prompt and the answer's room are taken (or the request's smaller limit), the {@link RagAssembler} fills it, and
 * the context opens the last user turn (the model card wants every instruction in the user turn). The Chat RPC and
 * {@code ./nemotron prompt} both go through here, so they render the same text.
 */
public final class DocumentPrompts {
    /** Room kept for the answer when the request sets no max_tokens: a quarter of the context, at most this. */
    static final int DEFAULT_ANSWER_RESERVE = 1024;
    /** Tokens may merge where the context meets the rest of the turn; this covers the difference. */
    static final int SEAM_SLACK = 8;

    /** The request to render (documents folded in, none left) and what the assembler kept and dropped. */
    public record Folded(ChatRequest request, RagContext context) {}

    private final RagAssembler assembler;
    private final TokenCounter counter;

    public DocumentPrompts(RagAssembler assembler, TokenCounter counter) {
        this.assembler = assembler;
        this.counter = counter;
    }

    /** One per model (the assembler is thread-safe): the model's tokenizer counts both budget and context. */
    public static DocumentPrompts of(Tokenizer tokenizer) {
        TokenCounter counter = TokenCounter.of(tokenizer);
        return new DocumentPrompts(new RagAssembler(counter), counter);
    }

    /**
     * @param render        the prompt builder (a request without documents to its exact prompt text)
     * @param contextLength the model's context length in tokens
     * @param maxTokens     the request's max_tokens, null when unset
     */
    public Folded fold(ChatRequest request, Function<ChatRequest, String> render, int contextLength, Integer maxTokens) {
        if (request.documents().isEmpty()) {
            return new Folded(request, RagContext.EMPTY);
        }
        List<ChatMessage> messages = request.messages();
        int last = -1;
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == Role.USER) {
                last = i;
                break;
            }
        }
        if (last < 0) {
            throw new InvalidRequestException("documents: the conversation has no user message to answer from them");
        }
        ChatRequest without = with(request, messages);
        int rest = counter.count(render.apply(without));
        int reserve = maxTokens != null ? maxTokens : Math.min(DEFAULT_ANSWER_RESERVE, contextLength / 4);
        int budget = contextLength - rest - reserve - SEAM_SLACK;
        if (request.ragContextBudget() != null) {
            budget = Math.min(budget, request.ragContextBudget());
        }
        ChatMessage user = messages.get(last);
        RagContext context = assembler.assemble(RagDocument.of(request.documents()), user.content(), budget);
        List<ChatMessage> folded = new ArrayList<>(messages);
        folded.set(last, new ChatMessage(Role.USER, context.userTurn(user.content()), user.toolCalls(), user.name(),
                user.toolCallId()));
        return new Folded(with(request, folded), context);
    }

    private static ChatRequest with(ChatRequest r, List<ChatMessage> messages) {
        return new ChatRequest(messages, r.tools(), r.thinking(), List.of(), null, r.addGenerationPrompt());
    }
}
