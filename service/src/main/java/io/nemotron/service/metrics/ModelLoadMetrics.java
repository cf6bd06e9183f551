package io.nemotron.service.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.nemotron.core.weights.LoadProgress;
import io.nemotron.core.weights.Progress;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The model's load as gauges, read from its {@link LoadProgress} at scrape time (so they move while the load runs,
 * before health turns SERVING): {@code nemotron_model_load_bytes} loaded so far, {@code nemotron_model_load_total_bytes}
 * the load will move (a second gauge rather than a tag, so that a total that grows as CUDA ranks declare their
 * uploads stays one time series), and {@code nemotron_model_load_seconds} spent loading, frozen when the load ends.
 * All 0 before the load begins.
 */
public final class ModelLoadMetrics implements MeterBinder {
    private final Supplier<LoadProgress> progress;

    /** @param progress the load's progress, or null before it began */
    public ModelLoadMetrics(Supplier<LoadProgress> progress) {
        this.progress = progress;
    }

    private double read(ToDoubleFunction<Progress> value) {
        LoadProgress p = progress.get();
        return p == null ? 0 : value.applyAsDouble(p.snapshot().total());
    }

    /** Strong references: a gauge holds its object weakly, and nothing else may hold this binder. */
    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("nemotron.model.load.bytes", this, m -> m.read(Progress::doneBytes))
                .description("Bytes of the model loaded so far (CPU: packed for the kernels; CUDA: uploaded, all ranks)")
                .strongReference(true)
                .register(registry);
        Gauge.builder("nemotron.model.load.total.bytes", this, m -> m.read(Progress::totalBytes))
                .description("Bytes the model's load moves in all (grows while CUDA ranks begin their uploads)")
                .strongReference(true)
                .register(registry);
        Gauge.builder("nemotron.model.load.seconds", this, m -> m.read(Progress::elapsedSeconds))
                .description("Seconds spent loading the model so far; frozen when the load ends")
                .strongReference(true)
                .register(registry);
    }
}
