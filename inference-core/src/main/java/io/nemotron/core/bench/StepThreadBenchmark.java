package io.nemotron.core.bench;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.engine.Engine;
import io.nemotron.core.engine.EngineConfig;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.EngineRequest;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.engine.StepObserver;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The engine's step thread at concurrency {@code c}: c requests decode together through the {@link Engine}, with the
 * model's tokenizer and stop strings (so detokenizing and stop-string checks run, as for a served request), and each
 * full decode step (c sequences, one row each) is split into its forward pass and the step thread's own time: the gap
 * between the previous forward pass's end and this one's start, when a device would wait. It holds the previous
 * step's sampling, bookkeeping, events or hand-over, and this step's commands, scheduling and batch building. The gap
 * is given as wall time (which also counts the step thread being descheduled, on a small busy machine) and as the
 * step thread's CPU time.
 *
 * <p>Uses only the engine's public API, so the same benchmark measures an engine before and after a change.
 */
public final class StepThreadBenchmark {
    /** Stop strings a served request might carry; random-weight output practically never contains them. */
    static final List<String> STOP_STRINGS = List.of("\n\nUser:", "<|end_of_turn|>", "Observation:");

    private final LoadedModel model;
    private final EngineConfig config;
    private final float temperature;
    private final float topP;
    private final Supplier<EngineListener> serviceListeners;

    /**
     * @param temperature      0 is greedy (sampling then costs an argmax); topP applies when temperature > 0
     * @param serviceListeners null, or one more listener per request that hears every event too: what the serving
     *                         layer does with them (the service's chat call: reasoning split, messages, stream)
     */
    public StepThreadBenchmark(LoadedModel model, EngineConfig config, float temperature, float topP,
                               Supplier<EngineListener> serviceListeners) {
        this.model = model;
        this.config = config;
        this.temperature = temperature;
        this.topP = topP;
        this.serviceListeners = serviceListeners;
    }

    /**
     * @param decodeSteps    full decode steps measured (all {@code concurrency} sequences in each)
     * @param stepMillis     mean wall time of a decode step as {@link StepObserver} reports it
     * @param forwardMillis  mean forward-pass time of those steps
     * @param ownMillis      mean wall time from the previous forward pass's end to this one's start
     * @param ownCpuMillis   mean CPU time of the step thread in that gap
     */
    public record Result(int concurrency, int promptLen, int genLen, int decodeSteps, double stepMillis,
                         double forwardMillis, double ownMillis, double ownCpuMillis) {}

    public Result run(int concurrency, int promptLen, int genLen) throws InterruptedException {
        if (concurrency < 1 || promptLen < 1 || genLen < 2) {
            throw new IllegalArgumentException("concurrency and prompt length must be >= 1, gen length >= 2");
        }
        TimedForward forward = new TimedForward(model.forwardPass());
        StepTimes times = new StepTimes(forward, concurrency);
        try (Engine engine = new Engine(forward, model.tokenizer(), config)) {
            engine.addStepObserver(times);
            // a full warm-up round: JIT (C2 needs thousands of calls of the per-token code), the tokenizer's native
            // library and page faults outside the timing
            runRound(engine, concurrency, promptLen, genLen, 99);
            times.reset();
            runRound(engine, concurrency, promptLen, genLen, 7);
        }
        return times.result(concurrency, promptLen, genLen);
    }

    private void runRound(Engine engine, int concurrency, int promptLen, int genLen, long seed)
            throws InterruptedException {
        int vocab = model.config().vocabSize();
        SplittableRandom random = new SplittableRandom(seed);
        CountDownLatch done = new CountDownLatch(concurrency);
        for (int c = 0; c < concurrency; c++) {
            int[] prompt = new int[promptLen];
            for (int i = 0; i < promptLen; i++) {
                prompt[i] = random.nextInt(3, vocab);   // distinct random prompts: no prefix-cache help
            }
            SamplingParams params = SamplingParams.builder().temperature(temperature).topP(topP).seed(seed * 1000 + c)
                    .maxTokens(genLen).ignoreEos(true).stop(STOP_STRINGS.toArray(String[]::new)).build();
            EngineListener service = serviceListeners == null ? null : serviceListeners.get();
            engine.submit(EngineRequest.of("step-" + seed + "-" + c, prompt, params), new EngineListener() {
                private final StringBuilder text = new StringBuilder();

                @Override
                public void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {
                    text.append(textDelta);
                    if (service != null) {
                        service.onToken(tokenId, textDelta, logprobs);
                    }
                }

                @Override
                public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
                    if (service != null) {
                        service.onFinished(reason, finalText, stats);
                    }
                    done.countDown();
                }

                @Override
                public void onError(Throwable error, RequestStats stats) {
                    if (service != null) {
                        service.onError(error, stats);
                    }
                    done.countDown();
                }
            });
        }
        if (!done.await(30, TimeUnit.MINUTES)) {
            throw new IllegalStateException("benchmark did not finish within 30 minutes");
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** The model, timing its forward calls and the gap before each; read by the step observer on the same thread. */
    private static final class TimedForward implements ForwardPass {
        private final ForwardPass model;
        long lastNanos;
        long gapNanos = -1;      // wall time since the previous forward call ended; -1: none since reset
        long gapCpuNanos = -1;
        private long endNanos;
        private long endCpuNanos;
        volatile boolean reset = true;   // set between rounds (the engine idles): the next gap is not a step's

        TimedForward(ForwardPass model) {
            this.model = model;
        }

        @Override
        public ModelConfig config() {
            return model.config();
        }

        @Override
        public int maxRows() {
            return model.maxRows();
        }

        @Override
        public KvPool newKvPool(int numBlocks, int blockSize) {
            return model.newKvPool(numBlocks, blockSize);
        }

        @Override
        public long kvBytesPerBlock(int blockSize) {
            return model.kvBytesPerBlock(blockSize);
        }

        @Override
        public void forward(StepBatch batch, KvPool kv, float[] logits) {
            timed(() -> model.forward(batch, kv, logits));
        }

        @Override
        public void forward(StepBatch batch, KvPool kv, SamplingBatch sampling, SampledTokens out) {
            timed(() -> model.forward(batch, kv, sampling, out));
        }

        private void timed(Runnable forward) {
            long start = System.nanoTime();
            long cpuStart = THREADS.getCurrentThreadCpuTime();
            boolean first = reset;
            reset = false;
            gapNanos = first ? -1 : start - endNanos;
            gapCpuNanos = first ? -1 : cpuStart - endCpuNanos;
            forward.run();
            endCpuNanos = THREADS.getCurrentThreadCpuTime();
            endNanos = System.nanoTime();
            lastNanos = endNanos - start;
        }
    }

    /** Sums the full decode steps (every sequence in, one row each); called on the step thread. */
    private static final class StepTimes implements StepObserver {
        private final TimedForward forward;
        private final int concurrency;
        private long steps;
        private long stepNanos;
        private long forwardNanos;
        private long ownNanos;
        private long ownCpuNanos;

        StepTimes(TimedForward forward, int concurrency) {
            this.forward = forward;
            this.concurrency = concurrency;
        }

        @Override
        public synchronized void onStep(int sequences, int tokens, long nanos) {
            if (sequences == concurrency && tokens == sequences && forward.gapNanos >= 0) {
                steps++;
                stepNanos += nanos;
                forwardNanos += forward.lastNanos;
                ownNanos += forward.gapNanos;
                ownCpuNanos += forward.gapCpuNanos;
            }
        }

        @Override
        public void onStepFailed(Throwable error, int sequences, long nanos) {
        }

        synchronized void reset() {
            steps = 0;
            stepNanos = 0;
            forwardNanos = 0;
            ownNanos = 0;
            ownCpuNanos = 0;
            forward.reset = true;
        }

        synchronized Result result(int concurrency, int promptLen, int genLen) {
            if (steps == 0) {
                throw new IllegalStateException("no full decode step was measured");
            }
            return new Result(concurrency, promptLen, genLen, (int) steps, stepNanos / 1e6 / steps,
                    forwardNanos / 1e6 / steps, ownNanos / 1e6 / steps, ownCpuNanos / 1e6 / steps);
        }
    }
}
