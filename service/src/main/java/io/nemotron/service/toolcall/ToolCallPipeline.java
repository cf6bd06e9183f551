package io.nemotron.service.toolcall;

import io.nemotron.api.v1.ToolCall;
import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.core.chat.ChatRequest;
import io.nemotron.service.grpc.stream.ChatOutput;
import io.nemotron.service.grpc.stream.ChatTextPipeline;

/**
 * The Chat RPC's tool-call stage: model text in, content deltas and ToolCallEvents out.
 *
 * <p>A parsed call becomes one event: {@code index} is its position among this response's calls (so call i has
 * id "call_i"), {@code error} joins its validation errors with "; ". A malformed block's text goes out as content;
 * the parse error, and a tool_choice required/named breach, go out as an event <em>without</em> a call
 * ({@code hasCall()} false) carrying only the error, at the index the next call would take. Only real calls make
 * {@link #finish()} return true (finish reason TOOL_CALLS).
 */
public final class ToolCallPipeline implements ChatTextPipeline {
    private final ChatOutput out;
    private final ToolCallStreamParser parser;
    private int callIndex;

    /**
     * @param request its tools (plain or OpenAI shape) are what calls are checked against
     * @param choice  the request's tool_choice (ChatRequest does not carry it); see {@link #toolChoice}
     */
    public ToolCallPipeline(ChatRequest request, ToolChoice choice, ChatOutput out) {
        this(new ToolCallValidator(ToolSpecs.fromMaps(request.tools()), choice), out);
    }

    public ToolCallPipeline(ToolCallValidator validator, ChatOutput out) {
        this.out = out;
        this.parser = new ToolCallStreamParser(validator, new ToOutput());
    }

    /** The API's ToolChoice as the parser's: MODE_UNSPECIFIED is AUTO when the request has tools, NONE otherwise. */
    public static ToolChoice toolChoice(io.nemotron.api.v1.ToolChoice proto, boolean hasTools) {
        return switch (proto.getMode()) {
            case NONE -> ToolChoice.NONE;
            case AUTO -> ToolChoice.AUTO;
            case REQUIRED -> ToolChoice.REQUIRED;
            case NAMED -> ToolChoice.named(proto.getName());
            case MODE_UNSPECIFIED, UNRECOGNIZED -> hasTools ? ToolChoice.AUTO : ToolChoice.NONE;
        };
    }

    @Override
    public void accept(String text) {
        parser.accept(text);
    }

    @Override
    public boolean finish() {
        return parser.finish();
    }

    /** Parser events as API messages. */
    private final class ToOutput implements ToolCallListener {
        @Override
        public void content(String text) {
            out.content(text);
        }

        @Override
        public void block(ToolCallBlock block) {
            for (ParsedToolCall call : block.calls()) {
                out.toolCall(ToolCallEvent.newBuilder()
                        .setIndex(callIndex++)
                        .setCall(ToolCall.newBuilder()
                                .setId(call.id())
                                .setName(call.name())
                                .setArguments(JsonStructs.toStruct(call.arguments())))
                        .setError(String.join("; ", call.errors()))
                        .build());
            }
        }

        @Override
        public void error(String message) {
            out.toolCall(ToolCallEvent.newBuilder().setIndex(callIndex).setError(message).build());
        }
    }
}
