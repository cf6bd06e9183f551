package io.nemotron.core.chat;

import java.util.List;
import java.util.Map;

/**
 * The chat request of DESIGN.md ("Command line"), as the CLI and the Chat RPC receive it.
 *
 * @param tools               tool definitions as given (template values); empty when none
 * @param thinking            null when the request leaves reasoning to the model's default
 * @param ragContextBudget    {@code rag.context_budget_tokens}, null when absent
 * @param addGenerationPrompt null when absent: see {@link #addsGenerationPrompt()}
 */
public record ChatRequest(List<ChatMessage> messages, List<Map<String, Object>> tools, Thinking thinking,
                          List<ChatDocument> documents, Integer ragContextBudget, Boolean addGenerationPrompt) {
    public ChatRequest {
        messages = List.copyOf(messages);
        tools = List.copyOf(tools);
        documents = List.copyOf(documents);
    }

    public static ChatRequest of(List<ChatMessage> messages) {
        return new ChatRequest(messages, List.of(), null, List.of(), null, null);
    }

    /**
     * Whether the prompt ends with an open assistant header. Unless the request says, yes, except when the last
     * message is the assistant's own (then the caller continues or scores that turn, as HF's continue_final_message).
     */
    public boolean addsGenerationPrompt() {
        if (addGenerationPrompt != null) {
            return addGenerationPrompt;
        }
        return messages.isEmpty() || messages.getLast().role() != Role.ASSISTANT;
    }
}
