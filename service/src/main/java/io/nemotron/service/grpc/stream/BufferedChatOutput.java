package io.nemotron.service.grpc.stream;

import io.nemotron.api.v1.ToolCallEvent;
import java.util.ArrayList;
import java.util.List;

/** A {@link ChatOutput} that keeps everything in memory, delta by delta: for one-shot parsing (the CLI) and tests. */
public final class BufferedChatOutput implements ChatOutput {
    public final List<String> contentDeltas = new ArrayList<>();
    public final List<String> reasoningDeltas = new ArrayList<>();
    public final List<ToolCallEvent> toolCalls = new ArrayList<>();

    @Override
    public void content(String text) {
        contentDeltas.add(text);
    }

    @Override
    public void reasoning(String text) {
        reasoningDeltas.add(text);
    }

    @Override
    public void toolCall(ToolCallEvent event) {
        toolCalls.add(event);
    }

    public String content() {
        return String.join("", contentDeltas);
    }

    public String reasoning() {
        return String.join("", reasoningDeltas);
    }
}
