package io.nemotron.service.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.demo.DemoModel;
import io.nemotron.core.engine.Engine;
import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.EngineRequest;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.runtime.KvCacheChoice;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.service.config.NemotronProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19's warm-up guarantee on the demo model, the server's default: after the warm-up the model serves without a
 * weight being packed or copied, and the first real request decodes about as fast as the tenth.
 */
class WarmupTest {
    private static final int REQUESTS = 10;
    private static final int GEN_TOKENS = 32;
    /**
     * First request's per-token decode time over the tenth's, where "the tenth's" is the median of requests 6 to 10: on
     * a shared 2-core machine one request's time alone was seen 40 % off its neighbours'. Measured here (2 threads,
     * other builds running): with a 1-token warm-up (the server's before issue 19) the first request decoded 2.2 and
     * 3.3 times slower than the steady state (interpreted and C1 code, the kernels compiling mid-request), and with a
     * fixed 64-token one still 2.25 times on a quieter machine (the JIT was compiling through requests 1 to 5); with
     * the warm-up that runs until the JIT settles (7 to 9 rounds) 0.96 to 1.25 in three runs at a load average of 10.
     * 2x fails the cold cases and leaves room for noise.
     */
    private static final double MAX_FIRST_OVER_TENTH = 2.0;

    @TempDir
    Path cache;

    @Test
    void afterTheWarmUpNoRequestPacksAWeightAndTheFirstDecodesLikeTheTenth() throws Exception {
        Path dir = DemoModel.ensure(cache);
        int threads = 2;
        EngineConfig config = new EngineConfig(64, 4, 16, 16, 0, 64L << 20, true, threads);
        try (LoadedModel model = LoadedModel.openCpu(dir, threads, config.maxNumBatchedTokens(), 1,
                KvCacheChoice.parse("auto", "kv"));
             Engine engine = new Engine(model, config)) {
            CpuBackend backend = (CpuBackend) model.backend();
            Warmup.Report warm = Warmup.run(engine, ServingModel.probePrompt(model),
                    NemotronProperties.Model.DEFAULT_WARMUP_TOKENS, model.config().maxPositionEmbeddings(),
                    Duration.ofMinutes(5));
            assertThat(warm.settled()).as("the JIT settled within the warm-up: %s", warm).isTrue();
            long preparedByWarmup = backend.weightPreparations();

            List<Double> perToken = new ArrayList<>();
            for (int r = 0; r < REQUESTS; r++) {
                perToken.add(decodeNanosPerToken(engine, r));
            }

            assertEquals(preparedByWarmup, backend.weightPreparations(),
                    "a request packed or copied a weight that the warm-up had not");
            double tenth = perToken.subList(REQUESTS - 5, REQUESTS).stream().sorted().toList().get(2);
            double ratio = perToken.getFirst() / tenth;
            System.out.printf("warm-up %s; per-token decode of requests 1..%d (us): %s; "
                    + "first / median of the last five %.2f%n", warm, REQUESTS,
                    perToken.stream().map(n -> String.format("%.0f", n / 1000)).toList(), ratio);
            assertThat(ratio).as("first request's decode time per token over the tenth's")
                    .isLessThan(MAX_FIRST_OVER_TENTH);
        }
    }

    /** One greedy request with a prompt no other request shares; (total − first token) / (tokens − 1). */
    private static double decodeNanosPerToken(Engine engine, int r) throws Exception {
        int[] prompt = IntStream.range(0, 8).map(i -> 40 + 97 * r + 13 * i).toArray();
        CompletableFuture<RequestStats> done = new CompletableFuture<>();
        engine.submit(EngineRequest.of("r" + r, prompt, SamplingParams.builder().temperature(0).maxTokens(GEN_TOKENS)
                .ignoreEos(true).build()), new EngineListener() {
                    @Override
                    public void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {}

                    @Override
                    public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
                        done.complete(stats);
                    }

                    @Override
                    public void onError(Throwable error, RequestStats stats) {
                        done.completeExceptionally(error);
                    }
                });
        RequestStats s = done.get(2, TimeUnit.MINUTES);
        assertEquals(GEN_TOKENS, s.completionTokens());
        return (double) (s.totalNanos() - s.firstTokenNanos()) / (s.completionTokens() - 1);
    }
}
