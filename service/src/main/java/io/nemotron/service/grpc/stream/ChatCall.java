package io.nemotron.service.grpc.stream;

import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.ContentDelta;
import io.nemotron.api.v1.ReasoningDelta;
import io.nemotron.api.v1.TokenLogprob;
import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.engine.SampledLogprobs;
import io.nemotron.service.grpc.StatusMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One Chat RPC as the engine sees it: text deltas go through the request's {@link ChatTextPipeline} and leave as
 * ChatResponse messages on the {@link ResponseStream}. Runs on the engine thread; nothing here blocks.
 */
public final class ChatCall implements EngineListener, ChatOutput {
    private final ResponseStream<ChatResponse> stream;
    private final ChatTextPipeline pipeline;
    private final String requestId;
    /** Logprobs of tokens whose text has not left yet: they ride on the next message. */
    private final List<TokenLogprob> logprobs = new ArrayList<>();

    public ChatCall(ResponseStream<ChatResponse> stream, Function<ChatOutput, ChatTextPipeline> pipeline,
                    String requestId) {
        this.stream = stream;
        this.pipeline = pipeline.apply(this);
        this.requestId = requestId;
    }

    @Override
    public void onToken(int tokenId, String textDelta, SampledLogprobs lp) {
        if (lp != null) {
            logprobs.add(Finals.logprob(lp));
        }
        pipeline.accept(textDelta);
    }

    @Override
    public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
        if (finalText != null) {
            pipeline.accept(finalText);
        }
        boolean toolCalls = pipeline.finish();
        if (reason != FinishReason.EXPIRED) { // past the deadline nobody reads a final message
            send(ChatResponse.newBuilder().setFinal(Finals.of(Finals.reason(reason, toolCalls), stats, requestId)));
        }
        stream.close(Finals.status(reason));
    }

    @Override
    public void onError(Throwable error, RequestStats stats) {
        send(ChatResponse.newBuilder().setFinal(Finals.of(io.nemotron.api.v1.FinishReason.ERROR, stats, requestId)));
        stream.close(StatusMapper.toStatus(error));
    }

    @Override
    public void content(String text) {
        send(ChatResponse.newBuilder().setContent(ContentDelta.newBuilder().setText(text)));
    }

    @Override
    public void reasoning(String text) {
        send(ChatResponse.newBuilder().setReasoning(ReasoningDelta.newBuilder().setText(text)));
    }

    @Override
    public void toolCall(ToolCallEvent event) {
        send(ChatResponse.newBuilder().setToolCall(event));
    }

    private void send(ChatResponse.Builder message) {
        if (!logprobs.isEmpty()) {
            message.addAllLogprobs(logprobs);
            logprobs.clear();
        }
        stream.send(message.build());
    }
}
