package io.nemotron.service.grpc.stream;

import io.grpc.Status;
import io.nemotron.api.v1.ChatFinal;
import io.nemotron.api.v1.FinishReason;
import io.nemotron.api.v1.TokenLogprob;
import io.nemotron.api.v1.TopLogprob;
import io.nemotron.api.v1.Timings;
import io.nemotron.api.v1.Usage;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;

/** Engine results to the API's final message, logprobs, and the stream's closing status. */
final class Finals {
    private Finals() {}

    static ChatFinal of(FinishReason reason, RequestStats s, String requestId) {
        return builder(reason, s, requestId).build();
    }

    static ChatFinal.Builder builder(FinishReason reason, RequestStats s, String requestId) {
        return ChatFinal.newBuilder()
                .setFinishReason(reason)
                .setUsage(Usage.newBuilder()
                        .setPromptTokens(s.promptTokens())
                        .setCompletionTokens(s.completionTokens())
                        .setCachedPromptTokens(s.cachedPromptTokens()))
                .setTimings(Timings.newBuilder()
                        .setQueueMs(s.queueNanos() / 1e6)
                        .setTimeToFirstTokenMs(s.firstTokenNanos() / 1e6)
                        .setTotalMs(s.totalNanos() / 1e6))
                .setRequestId(requestId);
    }

    /**
     * The engine's ending as the API's finish reason and the status that closes the stream: normal endings
     * complete it; expiry is the client's deadline; a cancel the client did not ask for (the server cancelled, e.g.
     * while draining) is reported as CANCELLED after the final message.
     */
    static FinishReason reason(io.nemotron.core.engine.FinishReason r, boolean toolCalls) {
        return switch (r) {
            case STOP -> toolCalls ? FinishReason.TOOL_CALLS : FinishReason.STOP;
            case LENGTH -> toolCalls ? FinishReason.TOOL_CALLS : FinishReason.LENGTH;
            case CANCELLED, EXPIRED -> FinishReason.CANCELLED;
            case ERROR -> FinishReason.ERROR;
        };
    }

    static Status status(io.nemotron.core.engine.FinishReason r) {
        return switch (r) {
            case STOP, LENGTH -> Status.OK;
            case EXPIRED -> Status.DEADLINE_EXCEEDED.withDescription("the request's deadline passed");
            case CANCELLED -> Status.CANCELLED.withDescription("the request was cancelled");
            case ERROR -> Status.INTERNAL.withDescription("the engine failed on this request");
        };
    }

    static TokenLogprob logprob(SampledLogprobs lp) {
        TokenLogprob.Builder b = TokenLogprob.newBuilder().setTokenId(lp.tokenId()).setLogprob(lp.logprob());
        if (lp.topIds() != null) {
            for (int i = 0; i < lp.topIds().length; i++) {
                b.addTop(TopLogprob.newBuilder().setTokenId(lp.topIds()[i]).setLogprob(lp.topLogprobs()[i]));
            }
        }
        return b.build();
    }
}
