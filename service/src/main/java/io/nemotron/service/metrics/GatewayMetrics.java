package io.nemotron.service.metrics;

import io.nemotron.core.engine.EngineSnapshot;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The load signals under the names the Kubernetes Gateway API Inference Extension's endpoint picker reads by default
 * (its model-server protocol, vLLM's names): {@code vllm:num_requests_waiting}, {@code vllm:num_requests_running},
 * {@code vllm:kv_cache_usage_perc} (and {@code vllm:gpu_cache_usage_perc}, the name older pickers read), and
 * {@code vllm:cache_config_info} with the {@code block_size} and {@code num_gpu_blocks} labels its prefix scorer uses.
 * <p>
 * NOTE: they live in their own registry, served at {@code /actuator/gie}, not in {@code /actuator/prometheus}:
 * promtool's lint rejects ':' in a metric name (colons are reserved for recording rules), and the main exposition
 * must pass it. The picker is pointed at this path with {@code --model-server-metrics-path}.
 */
public final class GatewayMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Supplier<EngineSnapshot> snapshots;
    private final Info cacheConfig;
    /** Block size and pool size never change once the engine exists: the info's labels are set once. */
    private volatile boolean cacheConfigSet;

    /** @param snapshots the serving engine's snapshot, or null while there is none */
    public GatewayMetrics(Supplier<EngineSnapshot> snapshots) {
        this.snapshots = snapshots;
        gauge("vllm:num_requests_waiting", "Requests waiting to be scheduled (TotalQueuedRequests).",
                s -> s.waiting());
        gauge("vllm:num_requests_running", "Sequences in the running batch (TotalRunningRequests).",
                s -> s.running());
        gauge("vllm:kv_cache_usage_perc", "Used KV-cache blocks over all blocks, 0..1 (KVCacheUtilization).",
                EngineLoadMetrics::kvUsage);
        gauge("vllm:gpu_cache_usage_perc", "The same as vllm:kv_cache_usage_perc, for pickers that read vLLM's old name.",
                EngineLoadMetrics::kvUsage);
        // an Info metric: the client adds the _info suffix (a gauge may not end in it) and writes it as a gauge of 1
        cacheConfig = Info.builder()
                .name("vllm:cache_config")
                .help("KV-cache configuration in labels (value 1); absent until the model has loaded.")
                .labelNames("block_size", "num_gpu_blocks")
                .register(registry);
    }

    private void gauge(String name, String help, ToDoubleFunction<EngineSnapshot> value) {
        GaugeWithCallback.builder().name(name).help(help)
                .callback(cb -> {
                    EngineSnapshot s = snapshots.get();
                    cb.call(value.applyAsDouble(s == null ? EngineLoadMetrics.NO_ENGINE : s));
                })
                .register(registry);
    }

    /** The Prometheus text format (0.0.4), which the picker's parser reads. */
    public String scrape() {
        EngineSnapshot s = snapshots.get();
        if (!cacheConfigSet && s != null) {
            cacheConfig.setLabelValues(Integer.toString(s.blockSize()), Integer.toString(s.totalBlocks()));
            cacheConfigSet = true;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            new PrometheusTextFormatWriter(false).write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
