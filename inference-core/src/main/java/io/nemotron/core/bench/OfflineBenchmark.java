package io.nemotron.core.bench;

import io.nemotron.core.engine.Engine;
import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.EngineRequest;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.runtime.LoadedModel;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** Prefill and decode throughput of the continuous-batching engine at several batch sizes, in one process. */
public final class OfflineBenchmark {
    private final LoadedModel model;
    private final EngineConfig config;

    public OfflineBenchmark(LoadedModel model, EngineConfig config) {
        this.model = model;
        this.config = config;
    }

    public OfflineResult run(int batch, int promptLen, int genLen) throws InterruptedException {
        if (batch < 1 || promptLen < 1 || genLen < 2) {
            throw new IllegalArgumentException("batch and prompt-len must be >= 1, gen-len >= 2");
        }
        try (Engine engine = new Engine(model, config)) {
            // warm-up request: JIT and page faults outside the timing
            runBatch(engine, 1, promptLen, Math.min(genLen, 8), 99);
            return runBatch(engine, batch, promptLen, genLen, 7);
        }
    }

    private OfflineResult runBatch(Engine engine, int batch, int promptLen, int genLen, long seed)
            throws InterruptedException {
        int vocab = model.config().vocabSize();
        SplittableRandom random = new SplittableRandom(seed);
        CountDownLatch done = new CountDownLatch(batch);
        AtomicLong tokens = new AtomicLong();
        AtomicLong lastFirstToken = new AtomicLong();
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(genLen).ignoreEos(true).build();
        long start = System.nanoTime();
        for (int b = 0; b < batch; b++) {
            int[] prompt = new int[promptLen];
            for (int i = 0; i < promptLen; i++) {
                // distinct random prompts: no prefix-cache help
                prompt[i] = random.nextInt(3, vocab);
            }
            engine.submit(EngineRequest.of("bench-" + seed + "-" + b, prompt, params), new EngineListener() {
                private boolean first = true;

                @Override
                public void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {
                    tokens.incrementAndGet();
                    if (first) {
                        first = false;
                        lastFirstToken.accumulateAndGet(System.nanoTime(), Math::max);
                    }
                }

                @Override
                public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
                    done.countDown();
                }

                @Override
                public void onError(Throwable error, RequestStats stats) {
                    done.countDown();
                }
            });
        }
        if (!done.await(30, TimeUnit.MINUTES)) {
            throw new IllegalStateException("benchmark did not finish within 30 minutes");
        }
        long end = System.nanoTime();
        return result(batch, promptLen, genLen, start, lastFirstToken.get(), end, tokens.get());
    }

    private static OfflineResult result(int batch, int promptLen, int genLen, long start, long firstsAt, long end,
                                        long tokens) {
        double total = (end - start) / 1e9;
        double prefill = (firstsAt - start) / 1e9;
        double decode = (end - firstsAt) / 1e9;
        return new OfflineResult(batch, promptLen, genLen, total, batch * (double) promptLen / prefill,
                decode > 0 ? (tokens - batch) / decode : 0, tokens / total);
    }
}
