package io.nemotron.service.grpc.stream;

import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.ContentDelta;
import io.nemotron.api.v1.ReasoningDelta;
import io.nemotron.api.v1.TokenLogprob;
import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.service.grpc.StatusMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One Chat RPC as the engine sees it: text deltas go through the request's {@link ChatTextPipeline} and leave as
 * ChatResponse messages on the {@link ResponseStream}. Runs on the engine's output stage (off the step thread), one call at a time.
 */
public final class ChatCall implements EngineListener, ChatOutput {
    private final ResponseStream<ChatResponse> stream;
    private final ChatTextPipeline pipeline;
    private final String requestId;
    private final List<String> documentsUsed;
    private final List<String> documentsDropped;
    /** Logprobs of tokens whose text has not left yet: they ride on the next message. */
    private final List<TokenLogprob> logprobs = new ArrayList<>();

    /** documentsUsed/documentsDropped: what the RAG assembler did with the request's documents (for the final). */
    public ChatCall(ResponseStream<ChatResponse> stream, Function<ChatOutput, ChatTextPipeline> pipeline,
                    String requestId, List<String> documentsUsed, List<String> documentsDropped) {
        this.stream = stream;
        this.pipeline = pipeline.apply(this);
        this.requestId = requestId;
        this.documentsUsed = List.copyOf(documentsUsed);
        this.documentsDropped = List.copyOf(documentsDropped);
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
            send(ChatResponse.newBuilder().setFinal(final_(Finals.reason(reason, toolCalls), stats)));
        }
        stream.close(Finals.status(reason));
    }

    @Override
    public void onError(Throwable error, RequestStats stats) {
        send(ChatResponse.newBuilder().setFinal(final_(io.nemotron.api.v1.FinishReason.ERROR, stats)));
        stream.close(StatusMapper.toStatus(error));
    }

    private io.nemotron.api.v1.ChatFinal final_(io.nemotron.api.v1.FinishReason reason, RequestStats stats) {
        return Finals.builder(reason, stats, requestId).addAllDocumentsUsed(documentsUsed)
                .addAllDocumentsDropped(documentsDropped).build();
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
