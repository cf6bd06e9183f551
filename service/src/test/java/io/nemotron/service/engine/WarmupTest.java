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
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
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
     * First request's engine-thread CPU time per token over the tenth's, where "the tenth's" is the median of requests
     * 6 to 10 (one request's time alone varies by up to 30 %). Measured here: with a 1-token warm-up (the server's
     * before issue 19) 6.05 and 6.87 (interpreted and C1 code; the JIT kept compiling through all ten requests); with
     * the warm-up that runs until the JIT settles 0.97 to 1.02 in three runs. 2x fails the cold case by a factor of three
     * and leaves room for noise.
     */
    private static final double MAX_FIRST_OVER_TENTH = 2.0;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @TempDir
    Path cache;

    @Test
    void afterTheWarmUpNoRequestPacksAWeightAndTheFirstDecodesLikeTheTenth() throws Exception {
        Path dir = DemoModel.ensure(cache);
        int threads = 1;   // all compute on the engine thread, whose CPU time is then the request's work
        EngineConfig config = new EngineConfig(64, 4, 16, 16, 0, 64L << 20, true, threads);
        try (LoadedModel model = LoadedModel.openCpu(dir, threads, config.maxNumBatchedTokens(), 1,
                KvCacheChoice.parse("auto", "kv"));
             Engine engine = new Engine(model, config)) {
            CpuBackend backend = (CpuBackend) model.backend();
            Warmup.Report warm = Warmup.run(engine, ServingModel.probePrompt(model),
                    NemotronProperties.Model.DEFAULT_WARMUP_TOKENS, model.config().maxPositionEmbeddings(),
                    model.config().vocabSize(), Duration.ofMinutes(5));
            assertThat(warm.settled()).as("the JIT settled within the warm-up: %s", warm).isTrue();
            long preparedByWarmup = backend.weightPreparations();

            long engineThread = engineThreadId();
            List<Double> perToken = new ArrayList<>();
            for (int r = 0; r < REQUESTS; r++) {
                perToken.add(cpuNanosPerToken(engine, engineThread, r));
            }

            assertEquals(preparedByWarmup, backend.weightPreparations(),
                    "a request packed or copied a weight that the warm-up had not");
            double tenth = perToken.subList(REQUESTS - 5, REQUESTS).stream().sorted().toList().get(2);
            double ratio = perToken.getFirst() / tenth;
            System.out.printf("warm-up %s; engine-thread CPU per token of requests 1..%d (us): %s; "
                    + "first / median of the last five %.2f%n", warm, REQUESTS,
                    perToken.stream().map(n -> String.format("%.0f", n / 1000)).toList(), ratio);
            assertThat(ratio).as("first request's decode time per token over the tenth's")
                    .isLessThan(MAX_FIRST_OVER_TENTH);
        }
    }

    /** The engine's step thread (it runs the whole forward pass with one compute thread). */
    private static long engineThreadId() {
        List<Thread> engines = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("nemotron-engine") && t.isAlive()).toList();
        assertEquals(1, engines.size(), "one engine thread in this JVM: " + engines);
        return engines.getFirst().threadId();
    }

    /**
     * One greedy request with a prompt no other request shares: the engine thread's CPU time over the tokens it
     * generated. CPU time, not wall time: on a shared machine another process taking the core for part of a request
     * made its wall time per token 10x another's; interpreted or C1 code costs CPU time on this thread either way, the
     * JIT compilers' own work runs on their threads.
     */
    private static double cpuNanosPerToken(Engine engine, long engineThread, int r) throws Exception {
        int[] prompt = IntStream.range(0, 8).map(i -> 40 + 97 * r + 13 * i).toArray();
        CompletableFuture<RequestStats> done = new CompletableFuture<>();
        long cpuBefore = THREADS.getThreadCpuTime(engineThread);
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
        long cpu = THREADS.getThreadCpuTime(engineThread) - cpuBefore;
        assertEquals(GEN_TOKENS, s.completionTokens());
        return (double) cpu / s.completionTokens();
    }
}
