package io.nemotron.core.chat;

import java.util.List;
import java.util.Map;

/** Turns prepared messages into prompt text: a checkpoint's chat template or the built-in Llama format. */
public interface ChatFormat {
    /**
     * @param messages template values: maps with {@code role}, {@code content} and, where given, {@code tool_calls},
     *                 {@code name}, {@code tool_call_id}
     * @param tools    tool definitions, or null when the request has none
     */
    String render(List<Map<String, Object>> messages, List<Map<String, Object>> tools, boolean addGenerationPrompt);

    /** Whether the format renders tools, tool calls and tool results itself (else the Llama-Nemotron folding applies). */
    boolean handlesTools();

    /** Whether the format itself drops earlier assistant turns' {@code <think>...</think>} reasoning. */
    boolean stripsReasoning();

    ThinkingSwitch thinkingSwitch();
}
