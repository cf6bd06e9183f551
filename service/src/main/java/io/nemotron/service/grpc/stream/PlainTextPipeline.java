package io.nemotron.service.grpc.stream;

/** Everything the model writes is answer content: the pipeline until reasoning and tool calls are parsed. */
public final class PlainTextPipeline implements ChatTextPipeline {
    private final ChatOutput out;

    public PlainTextPipeline(ChatOutput out) {
        this.out = out;
    }

    @Override
    public void accept(String text) {
        if (!text.isEmpty()) {
            out.content(text);
        }
    }

    @Override
    public boolean finish() {
        return false;
    }
}
