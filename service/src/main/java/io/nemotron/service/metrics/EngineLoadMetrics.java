package io.nemotron.service.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.nemotron.core.engine.EngineSnapshot;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The engine's load as gauges, and its cumulative counts (prefix-cache lookups, preemptions) as counters, all read
 * from {@link EngineSnapshot} at scrape time: the engine publishes a snapshot after every step, so a scrape costs a
 * volatile read per meter and nothing on the engine thread. Before the model has loaded every value is 0.
 */
public final class EngineLoadMetrics implements MeterBinder {
    static final EngineSnapshot NO_ENGINE = new EngineSnapshot(0, 0, 0, 0, 0, 0, 0, 0, 0);

    private final Supplier<EngineSnapshot> snapshots;

    /** @param snapshots the serving engine's snapshot, or null while there is none */
    public EngineLoadMetrics(Supplier<EngineSnapshot> snapshots) {
        this.snapshots = snapshots;
    }

    EngineSnapshot snapshot() {
        EngineSnapshot s = snapshots.get();
        return s == null ? NO_ENGINE : s;
    }

    /** Used blocks over all blocks, 0..1 (0 without a pool). */
    static double kvUsage(EngineSnapshot s) {
        return s.totalBlocks() == 0 ? 0 : (double) (s.totalBlocks() - s.freeBlocks()) / s.totalBlocks();
    }

    /** Prompt tokens found in the prefix cache over prompt tokens looked up, since start (0 before any lookup). */
    static double prefixHitRatio(EngineSnapshot s) {
        return s.prefixCacheQueries() == 0 ? 0 : (double) s.prefixCacheHits() / s.prefixCacheQueries();
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        gauge(registry, "nemotron.num.requests.running", "Sequences in the running batch", s -> s.running());
        gauge(registry, "nemotron.num.requests.waiting", "Requests waiting to be scheduled", s -> s.waiting());
        gauge(registry, "nemotron.kv.cache.usage.ratio", "Used KV-cache blocks over all blocks (0..1)",
                EngineLoadMetrics::kvUsage);
        gauge(registry, "nemotron.kv.cache.capacity.blocks", "KV-cache blocks in the pool", s -> s.totalBlocks());
        gauge(registry, "nemotron.kv.cache.free.blocks", "KV-cache blocks free (cached but unreferenced ones count)",
                s -> s.freeBlocks());
        gauge(registry, "nemotron.kv.cache.block.size.tokens", "Tokens per KV-cache block", s -> s.blockSize());
        gauge(registry, "nemotron.prefix.cache.hit.ratio",
                "Prompt tokens found in the prefix cache over prompt tokens looked up, since start",
                EngineLoadMetrics::prefixHitRatio);
        counter(registry, "nemotron.prefix.cache.queries", "Prompt tokens looked up in the prefix cache",
                s -> s.prefixCacheQueries());
        counter(registry, "nemotron.prefix.cache.hits", "Prompt tokens found in the prefix cache",
                s -> s.prefixCacheHits());
        counter(registry, "nemotron.preemptions", "Sequences preempted (recomputed later) for lack of KV blocks",
                s -> s.preemptions());
    }

    private void gauge(MeterRegistry registry, String name, String help, ToDoubleFunction<EngineSnapshot> value) {
        Gauge.builder(name, () -> value.applyAsDouble(snapshot())).description(help).register(registry);
    }

    private void counter(MeterRegistry registry, String name, String help, ToDoubleFunction<EngineSnapshot> value) {
        // the engine counts since its start and the snapshot only grows: a counter read, not incremented, here
        FunctionCounter.builder(name, this, m -> value.applyAsDouble(m.snapshot())).description(help)
                .register(registry);
    }
}
