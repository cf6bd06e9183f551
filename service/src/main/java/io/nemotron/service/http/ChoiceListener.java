package io.nemotron.service.http;

import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.service.grpc.stream.ChatOutput;
import io.nemotron.service.grpc.stream.ChatTextPipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One choice as the engine sees it: text deltas go through the same {@link ChatTextPipeline} as the Chat RPC's
 * (reasoning split, tool-call parser) and leave for the {@link ChoiceSink}, with the logprobs of the tokens they
 * came from.
 */
final class ChoiceListener implements EngineListener, ChatOutput {
    private final int index;
    private final ChoiceSink sink;
    private final ChatTextPipeline pipeline;
    /** Logprobs of tokens whose text has not left yet: they ride on the next event. */
    private final List<SampledLogprobs> logprobs = new ArrayList<>();
    private int[] tokenIds = new int[16];
    private int generated;

    ChoiceListener(int index, ChoiceSink sink, Function<ChatOutput, ChatTextPipeline> pipeline) {
        this.index = index;
        this.sink = sink;
        this.pipeline = pipeline.apply(this);
    }

    @Override
    public void onToken(int tokenId, String textDelta, SampledLogprobs lp) {
        if (lp != null) {
            logprobs.add(lp);
        }
        if (generated == tokenIds.length) {
            tokenIds = java.util.Arrays.copyOf(tokenIds, generated * 2);
        }
        tokenIds[generated++] = tokenId;
        pipeline.accept(textDelta);
    }

    @Override
    public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
        if (finalText != null) {
            pipeline.accept(finalText);
        }
        boolean toolCalls = pipeline.finish();
        if (!logprobs.isEmpty()) { // tokens whose text never showed (e.g. a stop string): their logprobs still do
            sink.content(index, "", taken());
        }
        sink.finished(index, reason, toolCalls, stats, java.util.Arrays.copyOf(tokenIds, generated));
    }

    @Override
    public void onError(Throwable error, RequestStats stats) {
        sink.failed(index, error, stats);
    }

    @Override
    public void content(String text) {
        sink.content(index, text, taken());
    }

    @Override
    public void reasoning(String text) {
        sink.reasoning(index, text, taken());
    }

    @Override
    public void toolCall(ToolCallEvent event) {
        sink.toolCall(index, event, taken());
    }

    private List<SampledLogprobs> taken() {
        if (logprobs.isEmpty()) {
            return List.of();
        }
        List<SampledLogprobs> out = List.copyOf(logprobs);
        logprobs.clear();
        return out;
    }
}
