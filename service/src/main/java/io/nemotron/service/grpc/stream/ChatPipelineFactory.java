package io.nemotron.service.grpc.stream;

import io.nemotron.core.chat.ChatRequest;

/** Chooses the text pipeline for a chat request (e.g. a tool-call parser only when the request has tools). */
@FunctionalInterface
public interface ChatPipelineFactory {
    ChatTextPipeline create(ChatRequest request, ChatOutput out);
}
