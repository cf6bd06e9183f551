package io.nemotron.service.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.nemotron.core.engine.StepObserver;
import java.util.concurrent.TimeUnit;

/**
 * Every engine step: its wall time, how many sequences and token rows it ran, and failed steps as backend errors.
 * Called on the engine thread between steps, so it only records into lock-free histograms.
 */
public final class StepMetrics implements StepObserver {
    private final Timer stepTime;
    private final DistributionSummary batchSequences;
    private final DistributionSummary batchTokens;
    private final Counter backendErrors;

    public StepMetrics(MeterRegistry registry) {
        stepTime = Timer.builder("nemotron.engine.step")
                .description("Wall time of one engine step: forward pass, sampling and events")
                .serviceLevelObjectives(LatencyBuckets.STEP)
                .register(registry);
        batchSequences = DistributionSummary.builder("nemotron.engine.batch.size")
                .description("Sequences in one engine step (decodes and prefill chunks)")
                .serviceLevelObjectives(LatencyBuckets.BATCH_SEQUENCES)
                .register(registry);
        batchTokens = DistributionSummary.builder("nemotron.engine.batch.tokens")
                .description("Token rows one engine step computed")
                .serviceLevelObjectives(LatencyBuckets.BATCH_TOKENS)
                .register(registry);
        backendErrors = Counter.builder("nemotron.backend.errors")
                .description("Engine steps whose backend threw (their sequences failed)")
                .register(registry);
    }

    @Override
    public void onStep(int sequences, int tokens, long nanos) {
        stepTime.record(nanos, TimeUnit.NANOSECONDS);
        batchSequences.record(sequences);
        batchTokens.record(tokens);
    }

    @Override
    public void onStepFailed(Throwable error, int sequences, long nanos) {
        backendErrors.increment();
    }
}
