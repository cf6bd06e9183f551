package io.nemotron.core.chat;

import java.util.List;
import java.util.Map;

/**
 * One turn. {@code toolCalls} are the assistant's calls as given (OpenAI shape
 * {@code {"type":"function","function":{"name":..,"arguments":..}}} or bare {@code {"name":..,"arguments":..}}),
 * kept as template values; empty when none. {@code name} and {@code toolCallId} are null when absent.
 */
public record ChatMessage(Role role, String content, List<Map<String, Object>> toolCalls, String name, String toolCallId) {
    public ChatMessage {
        toolCalls = List.copyOf(toolCalls);
    }

    public static ChatMessage of(Role role, String content) {
        return new ChatMessage(role, content, List.of(), null, null);
    }
}
