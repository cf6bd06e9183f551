package io.nemotron.service.chat;

import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.Thinking;
import io.nemotron.service.rag.RagContext;

/**
 * A chat request made ready for the engine, the same whatever the entry point.
 *
 * @param request  the request as rendered: documents folded into the last user turn, none left
 * @param prompt   the exact prompt text (it holds the BOS text: the ids add no second BOS)
 * @param ids      the prompt's token ids
 * @param thinking the effective reasoning mode (the request's, else the template's switch)
 * @param sampling the defaults for fields the request leaves unset
 * @param context  what the RAG assembler kept and dropped ({@link RagContext#EMPTY} without documents)
 */
public record PreparedChat(ChatRequest request, String prompt, int[] ids, Thinking thinking, SamplingDefaults sampling,
                           RagContext context) {

    public boolean thinkingOn() {
        return thinking == Thinking.ON;
    }
}
