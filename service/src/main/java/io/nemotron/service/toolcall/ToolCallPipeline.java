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
    private final ToolCallValidator validator;
    private final ToolCallStreamParser parser;
    private final ToolCallOutcomes outcomes;
    private int callIndex;
    private int errorEvents;
    private int invalidCalls;
    private boolean finished;

    /**
     * @param request its tools (plain or OpenAI shape) are what calls are checked against
     * @param choice  the request's tool_choice (ChatRequest does not carry it); see {@link #toolChoice}
     */
    public ToolCallPipeline(ChatRequest request, ToolChoice choice, ChatOutput out) {
        this(request, choice, out, ToolCallOutcomes.NONE);
    }

    /** @param outcomes told at {@link #finish()} how many blocks failed to parse and how many calls were invalid */
    public ToolCallPipeline(ChatRequest request, ToolChoice choice, ChatOutput out, ToolCallOutcomes outcomes) {
        this(new ToolCallValidator(ToolSpecs.fromMaps(request.tools()), choice), out, outcomes);
    }

    public ToolCallPipeline(ToolCallValidator validator, ChatOutput out) {
        this(validator, out, ToolCallOutcomes.NONE);
    }

    private ToolCallPipeline(ToolCallValidator validator, ChatOutput out, ToolCallOutcomes outcomes) {
        this.out = out;
        this.validator = validator;
        this.parser = new ToolCallStreamParser(validator, new ToOutput());
        this.outcomes = outcomes;
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
        boolean calls = parser.finish();
        if (!finished) {
            finished = true;
            // a tool_choice breach arrives through the same error event as a malformed block: tell them apart here
            int breach = validator.missingCallError(parser.callCount()).isPresent() ? 1 : 0;
            outcomes.finished(errorEvents - breach, invalidCalls + breach);
        }
        return calls;
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
                if (!call.errors().isEmpty()) {
                    invalidCalls++;
                }
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
            errorEvents++;
            out.toolCall(ToolCallEvent.newBuilder().setIndex(callIndex).setError(message).build());
        }
    }
}
