package io.nemotron.service.grpc.stream;

import io.nemotron.api.v1.GenerateDelta;
import io.nemotron.api.v1.GenerateResponse;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.service.grpc.StatusMapper;

/** One Generate RPC: every token leaves as a delta with its id, so clients can compare token ids exactly. */
public final class GenerateCall implements EngineListener {
    private final ResponseStream<GenerateResponse> stream;
    private final String requestId;

    public GenerateCall(ResponseStream<GenerateResponse> stream, String requestId) {
        this.stream = stream;
        this.requestId = requestId;
    }

    @Override
    public void onToken(int tokenId, String textDelta, SampledLogprobs lp) {
        GenerateDelta.Builder delta = GenerateDelta.newBuilder().addTokenIds(tokenId).setText(textDelta);
        if (lp != null) {
            delta.addLogprobs(Finals.logprob(lp));
        }
        stream.send(GenerateResponse.newBuilder().setDelta(delta).build());
    }

    @Override
    public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
        if (finalText != null && !finalText.isEmpty()) {
            stream.send(GenerateResponse.newBuilder().setDelta(GenerateDelta.newBuilder().setText(finalText)).build());
        }
        if (reason != FinishReason.EXPIRED) {
            stream.send(GenerateResponse.newBuilder()
                    .setFinal(Finals.of(Finals.reason(reason, false), stats, requestId)).build());
        }
        stream.close(Finals.status(reason));
    }

    @Override
    public void onError(Throwable error, RequestStats stats) {
        stream.send(GenerateResponse.newBuilder()
                .setFinal(Finals.of(io.nemotron.api.v1.FinishReason.ERROR, stats, requestId)).build());
        stream.close(StatusMapper.toStatus(error));
    }
}
