package io.nemotron.service.grpc;

import io.nemotron.core.engine.InvalidRequestException;
import io.nemotron.api.v1.ChatRequest;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Per-request ceilings ({@code nemotron.limits.*}): what one request may ask of the server. Each refusal is an
 * {@link IllegalArgumentException} (INVALID_ARGUMENT through {@link StatusMapper}) starting with the field and
 * naming the property, e.g. {@code messages: 300 messages, over nemotron.limits.max-messages (256)}.
 * The request's byte size is {@link RequestGuard}'s ({@code nemotron.grpc.max-request-size}).
 *
 * @param maxMessages     messages in one Chat request
 * @param maxTools        tools in one Chat request
 * @param maxDocuments    documents in one Chat request
 * @param maxPromptTokens tokens of the rendered prompt (chat template, tools and RAG context included)
 * @param maxTokens       max_tokens of one request; an unset max_tokens means the rest of the context, at most this
 */
@ConfigurationProperties("nemotron.limits")
public record RequestLimits(@DefaultValue("256") int maxMessages, @DefaultValue("128") int maxTools,
                            @DefaultValue("256") int maxDocuments, @DefaultValue("131072") int maxPromptTokens,
                            @DefaultValue("32768") int maxTokens) {

    public RequestLimits {
        positive(maxMessages, "max-messages");
        positive(maxTools, "max-tools");
        positive(maxDocuments, "max-documents");
        positive(maxPromptTokens, "max-prompt-tokens");
        positive(maxTokens, "max-tokens");
    }

    /** The counts of a Chat request, checked before any work is spent on it. */
    void check(ChatRequest r) {
        over("messages", r.getMessagesCount(), "max-messages", maxMessages);
        over("tools", r.getToolsCount(), "max-tools", maxTools);
        over("documents", r.getDocumentsCount(), "max-documents", maxDocuments);
    }

    /**
     * Checks the tokenized prompt and max_tokens; returns the max_tokens to sample with.
     *
     * @param requested     the request's max_tokens, null when unset
     * @param promptField   the field the prompt came from ({@code messages}, {@code text}, {@code token_ids})
     * @param contextLength the model's: an unset max_tokens fills the rest of it, capped at {@link #maxTokens}
     * @return {@code requested}, or for an unset one the cap when it is smaller than the room left (null otherwise,
     *         so the sampler's own "no room in the context" check still speaks)
     */
    Integer maxTokens(Integer requested, int promptTokens, String promptField, int contextLength) {
        if (promptTokens > maxPromptTokens) {
            throw new InvalidRequestException(promptField + ": the prompt is " + promptTokens
                    + " tokens, over nemotron.limits.max-prompt-tokens (" + maxPromptTokens + ")");
        }
        if (requested != null) {
            if (requested > maxTokens) {
                throw new InvalidRequestException("max_tokens: " + requested + ", over nemotron.limits.max-tokens ("
                        + maxTokens + ")");
            }
            return requested;
        }
        return contextLength - promptTokens > maxTokens ? maxTokens : null;
    }

    private static void over(String field, int count, String property, int limit) {
        if (count > limit) {
            throw new InvalidRequestException(field + ": " + count + " " + field + ", over nemotron.limits." + property
                    + " (" + limit + ")");
        }
    }

    private static void positive(int value, String property) {
        if (value < 1) {
            throw new IllegalArgumentException("nemotron.limits." + property + " must be >= 1, got " + value);
        }
    }
}
