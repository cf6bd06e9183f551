package io.nemotron.service.bench;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.nemotron.api.v1.GenerateResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * Times one streamed Generate call as the client sees it. Callbacks run on the transport thread (the channel has a
 * direct executor), so the load generator spends as little CPU as possible: on a shared machine every client cycle
 * is taken from the server it measures.
 */
final class StreamTimer implements StreamObserver<GenerateResponse> {
    private final long sent = System.nanoTime();
    private final Runnable onDone;
    final List<Double> gaps = new ArrayList<>();
    double firstTokenMs = -1;
    double endToEndMs;
    long tokens;
    long cachedPromptTokens;
    Status error;
    private long last;

    StreamTimer(Runnable onDone) {
        this.onDone = onDone;
    }

    @Override
    public void onNext(GenerateResponse r) {
        long now = System.nanoTime();
        if (r.hasDelta() && r.getDelta().getTokenIdsCount() > 0) {
            int n = r.getDelta().getTokenIdsCount();
            if (firstTokenMs < 0) {
                firstTokenMs = (now - sent) / 1e6;
            } else {
                // a message carrying n tokens spreads its gap over them
                double gap = (now - last) / 1e6 / n;
                for (int k = 0; k < n; k++) {
                    gaps.add(gap);
                }
            }
            tokens += n;
            last = now;
        } else if (r.hasFinal()) {
            cachedPromptTokens = r.getFinal().getUsage().getCachedPromptTokens();
        }
    }

    @Override
    public void onError(Throwable t) {
        error = Status.fromThrowable(t);
        endToEndMs = (System.nanoTime() - sent) / 1e6;
        onDone.run();
    }

    @Override
    public void onCompleted() {
        endToEndMs = (System.nanoTime() - sent) / 1e6;
        onDone.run();
    }
}
