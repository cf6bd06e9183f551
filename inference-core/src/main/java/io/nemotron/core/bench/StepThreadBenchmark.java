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
import io.nemotron.core.engine.SampledLogprobs;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.engine.StepObserver;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.runtime.LoadedModel;
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
 * full decode step (c sequences, one row each) is split into its forward pass and the step thread's own time: the
 * step's wall time as {@link StepObserver} reports it (from the scheduled batch to the last token handed on) minus
 * the forward pass, i.e. batch building, sampling, bookkeeping and whatever output work the step thread does. Wall
 * time counts the step thread being descheduled too (on a small, busy machine other threads take its core), so the
 * step thread's CPU time outside the forward pass is reported beside it: everything the loop did since the previous
 * step ended (commands, scheduling, batch building) and after its forward pass (sampling, bookkeeping, events).
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
     * @param stepMillis     mean wall time of a decode step on the step thread
     * @param forwardMillis  mean forward-pass time of those steps
     * @param ownCpuMillis   mean CPU time of the step thread outside the forward pass, per decode step
     */
    public record Result(int concurrency, int promptLen, int genLen, int decodeSteps, double stepMillis,
                         double forwardMillis, double ownCpuMillis) {
        /** The step thread's own time per decode step: everything but the forward pass. */
        public double ownMillis() {
            return stepMillis - forwardMillis;
        }
    }

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

    /** The model, with the wall and CPU times of its latest forward call kept for the step observer (same thread). */
    private static final class TimedForward implements ForwardPass {
        private final ForwardPass model;
        long lastNanos;
        long cpuAtStart;
        long cpuAtEnd;

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
            cpuAtStart = THREADS.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            model.forward(batch, kv, logits);
            lastNanos = System.nanoTime() - start;
            cpuAtEnd = THREADS.getCurrentThreadCpuTime();
        }
    }

    /** Sums the full decode steps (every sequence in, one row each); called on the step thread. */
    private static final class StepTimes implements StepObserver {
        private final TimedForward forward;
        private final int concurrency;
        private long steps;
        private long stepNanos;
        private long forwardNanos;
        private long ownCpuNanos;
        private long cpuAtLastStep;   // the step thread's CPU time when the previous step ended; 0: none yet

        StepTimes(TimedForward forward, int concurrency) {
            this.forward = forward;
            this.concurrency = concurrency;
        }

        @Override
        public synchronized void onStep(int sequences, int tokens, long nanos) {
            long cpu = THREADS.getCurrentThreadCpuTime();
            if (sequences == concurrency && tokens == sequences && cpuAtLastStep != 0) {
                steps++;
                stepNanos += nanos;
                forwardNanos += forward.lastNanos;
                ownCpuNanos += (forward.cpuAtStart - cpuAtLastStep) + (cpu - forward.cpuAtEnd);
            }
            cpuAtLastStep = cpu;
        }

        @Override
        public void onStepFailed(Throwable error, int sequences, long nanos) {
        }

        synchronized void reset() {
            steps = 0;
            stepNanos = 0;
            forwardNanos = 0;
            ownCpuNanos = 0;
            cpuAtLastStep = 0;
        }

        synchronized Result result(int concurrency, int promptLen, int genLen) {
            if (steps == 0) {
                throw new IllegalStateException("no full decode step was measured");
            }
            return new Result(concurrency, promptLen, genLen, (int) steps, stepNanos / 1e6 / steps,
                    forwardNanos / 1e6 / steps, ownCpuNanos / 1e6 / steps);
        }
    }
}
