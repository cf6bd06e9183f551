package io.nemotron.service.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.service.rag.DroppedDocument;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What each Chat / Generate request costs: latency histograms and token counters tagged {@code rpc} (chat | generate),
 * and the documents the RAG assembler left out. Every series is registered here at start-up, at zero, so a scrape
 * shows the whole family before the first request (Prometheus cannot tell "none yet" from "not exported").
 */
public final class RequestMetrics {
    /** The {@code rpc} tag values: the two streaming RPCs that run on the engine. */
    public static final String CHAT = "chat";
    public static final String GENERATE = "generate";

    private final Map<String, PerRpc> byRpc;
    private final Map<DroppedDocument.Reason, Counter> dropped = new EnumMap<>(DroppedDocument.Reason.class);

    public RequestMetrics(MeterRegistry registry) {
        this.byRpc = Map.of(CHAT, new PerRpc(registry, CHAT), GENERATE, new PerRpc(registry, GENERATE));
        for (DroppedDocument.Reason reason : DroppedDocument.Reason.values()) {
            dropped.put(reason, Counter.builder("nemotron.rag.documents.dropped")
                    .description("Documents the RAG assembler left out of the prompt, by reason")
                    .tag("reason", reason.name().toLowerCase(Locale.ROOT))
                    .register(registry));
        }
    }

    /** The engine listener to submit instead of {@code call}: it times the stream, then delegates every event. */
    public EngineListener listen(String rpc, EngineListener call) {
        PerRpc m = byRpc.get(rpc);
        if (m == null) {
            throw new IllegalArgumentException("rpc " + rpc + ": expected " + CHAT + " or " + GENERATE);
        }
        return new MeteredListener(m, call);
    }

    public void documentsDropped(List<DroppedDocument> documents) {
        for (DroppedDocument d : documents) {
            dropped.get(d.reason()).increment();
        }
    }

    /** The meters of one rpc value. */
    static final class PerRpc {
        final Timer timeToFirstToken;
        final Timer interTokenLatency;
        final Timer endToEnd;
        final Timer queueTime;
        final Counter promptTokens;
        final Counter generationTokens;
        final Counter cachedPromptTokens;

        PerRpc(MeterRegistry registry, String rpc) {
            timeToFirstToken = timer(registry, "nemotron.time.to.first.token",
                    "From submit to the first generated token", rpc, LatencyBuckets.TIME_TO_FIRST_TOKEN);
            interTokenLatency = timer(registry, "nemotron.inter.token.latency",
                    "Between two consecutive tokens of one stream", rpc, LatencyBuckets.INTER_TOKEN);
            endToEnd = timer(registry, "nemotron.e2e.request.latency",
                    "From submit to the request's end (finished, cancelled, expired or failed)", rpc,
                    LatencyBuckets.END_TO_END);
            queueTime = timer(registry, "nemotron.request.queue.time",
                    "From submit to the request's first schedule", rpc, LatencyBuckets.QUEUE);
            promptTokens = counter(registry, "nemotron.prompt.tokens", "Prompt tokens of finished requests", rpc);
            generationTokens = counter(registry, "nemotron.generation.tokens", "Generated tokens", rpc);
            cachedPromptTokens = counter(registry, "nemotron.prompt.tokens.cached",
                    "Prompt tokens whose KV came from the prefix cache", rpc);
        }

        void finished(RequestStats s) {
            promptTokens.increment(s.promptTokens());
            generationTokens.increment(s.completionTokens());
            cachedPromptTokens.increment(s.cachedPromptTokens());
            endToEnd.record(s.totalNanos(), TimeUnit.NANOSECONDS);
            if (s.firstTokenNanos() > 0) { // 0: no token was generated
                timeToFirstToken.record(s.firstTokenNanos(), TimeUnit.NANOSECONDS);
            }
            if (s.queueNanos() > 0) { // 0: it never left the queue
                queueTime.record(s.queueNanos(), TimeUnit.NANOSECONDS);
            }
        }

        private static Timer timer(MeterRegistry registry, String name, String help, String rpc, Duration[] buckets) {
            return Timer.builder(name).description(help).tag("rpc", rpc)
                    .serviceLevelObjectives(buckets)
                    .register(registry);
        }

        private static Counter counter(MeterRegistry registry, String name, String help, String rpc) {
            return Counter.builder(name).description(help).tag("rpc", rpc).register(registry);
        }
    }
}
