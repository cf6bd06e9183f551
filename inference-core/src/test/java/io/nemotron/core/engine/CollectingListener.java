package io.nemotron.core.engine;

import io.nemotron.core.sampling.SampledLogprobs;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Records one request's events; {@link #await()} returns once it finished or failed. */
class CollectingListener implements EngineListener {
    final List<Integer> tokens = new ArrayList<>();
    final StringBuilder text = new StringBuilder();
    final CompletableFuture<FinishReason> finish = new CompletableFuture<>();
    final CountDownLatch firstToken = new CountDownLatch(1);
    volatile RequestStats stats;

    @Override
    public synchronized void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {
        tokens.add(tokenId);
        text.append(textDelta);
        firstToken.countDown();
    }

    @Override
    public synchronized void onFinished(FinishReason reason, String finalText, RequestStats stats) {
        text.append(finalText);
        this.stats = stats;
        finish.complete(reason);
    }

    @Override
    public void onError(Throwable error, RequestStats stats) {
        this.stats = stats;
        finish.completeExceptionally(error);
    }

    FinishReason await() throws Exception {
        return finish.get(2, TimeUnit.MINUTES);
    }

    synchronized int[] ids() {
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }
}
