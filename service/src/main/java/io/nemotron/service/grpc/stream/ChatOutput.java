package io.nemotron.service.grpc.stream;

import io.nemotron.api.v1.ToolCallEvent;

/** Where a {@link ChatTextPipeline} puts what it makes of the model's text. Called on the engine's output stage, one call at a time per request. */
public interface ChatOutput {
    void content(String text);

    void reasoning(String text);

    void toolCall(ToolCallEvent event);
}
