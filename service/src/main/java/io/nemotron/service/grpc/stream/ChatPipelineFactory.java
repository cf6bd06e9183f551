package io.nemotron.service.grpc.stream;

import io.nemotron.core.chat.ChatRequest;
import io.nemotron.service.toolcall.ToolChoice;

/** Chooses the text pipeline for a chat request (e.g. a tool-call parser only when the request has tools). */
@FunctionalInterface
public interface ChatPipelineFactory {
    /**
     * thinkingOn: the effective reasoning mode of the rendered prompt (the request's, else the template default);
     * toolChoice: the request's, resolved (unspecified = AUTO with tools, NONE without).
     */
    ChatTextPipeline create(ChatRequest request, boolean thinkingOn, ToolChoice toolChoice, ChatOutput out);
}
