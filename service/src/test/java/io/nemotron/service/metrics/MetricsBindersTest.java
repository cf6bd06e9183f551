package io.nemotron.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nemotron.core.chat.ChatMessage;
import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.Role;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.EngineSnapshot;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.service.grpc.stream.BufferedChatOutput;
import io.nemotron.service.rag.DroppedDocument;
import io.nemotron.service.toolcall.ToolCallPipeline;
import io.nemotron.service.toolcall.ToolChoice;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

/** Each binder over a SimpleMeterRegistry, fed hand-made engine snapshots, stats and steps; values checked by hand. */
class MetricsBindersTest {
    private final MeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void engineSnapshotBecomesGaugesAndCounters() {
        AtomicReference<EngineSnapshot> snapshot = new AtomicReference<>();
        new EngineLoadMetrics(snapshot::get).bindTo(registry);

        // no engine yet: every series exists, at 0
        assertThat(gauge("nemotron.kv.cache.usage.ratio")).isZero();
        assertThat(gauge("nemotron.num.requests.running")).isZero();
        assertThat(registry.get("nemotron.preemptions").functionCounter().count()).isZero();

        // 3 running, 2 waiting, 25 of 100 blocks free, 30 of 120 looked-up prompt tokens hit, 4 preemptions
        snapshot.set(new EngineSnapshot(3, 2, 100, 25, 16, 30, 120, 4, 9));
        assertThat(gauge("nemotron.num.requests.running")).isEqualTo(3);
        assertThat(gauge("nemotron.num.requests.waiting")).isEqualTo(2);
        assertThat(gauge("nemotron.kv.cache.usage.ratio")).isEqualTo(0.75);
        assertThat(gauge("nemotron.kv.cache.capacity.blocks")).isEqualTo(100);
        assertThat(gauge("nemotron.kv.cache.free.blocks")).isEqualTo(25);
        assertThat(gauge("nemotron.kv.cache.block.size.tokens")).isEqualTo(16);
        assertThat(gauge("nemotron.prefix.cache.hit.ratio")).isEqualTo(0.25);
        assertThat(registry.get("nemotron.prefix.cache.hits").functionCounter().count()).isEqualTo(30);
        assertThat(registry.get("nemotron.prefix.cache.queries").functionCounter().count()).isEqualTo(120);
        assertThat(registry.get("nemotron.preemptions").functionCounter().count()).isEqualTo(4);
    }

    @Test
    void requestStatsFillTheHistogramsAndTokenCounters() {
        RequestMetrics metrics = new RequestMetrics(registry);
        List<String> seen = new ArrayList<>();
        EngineListener listener = metrics.listen(RequestMetrics.CHAT, recording(seen));

        listener.onToken(7, "a", null);
        listener.onToken(8, "b", null);
        listener.onToken(9, "c", null);
        // 10 prompt tokens (4 cached), 3 generated; queued 2 ms, first token at 30 ms, done at 1.5 s
        listener.onFinished(FinishReason.LENGTH, "", new RequestStats(10, 3, 4, 2_000_000, 30_000_000, 1_500_000_000));

        assertThat(seen).containsExactly("token 7", "token 8", "token 9", "finished LENGTH");
        assertThat(counter("nemotron.prompt.tokens", "chat")).isEqualTo(10);
        assertThat(counter("nemotron.generation.tokens", "chat")).isEqualTo(3);
        assertThat(counter("nemotron.prompt.tokens.cached", "chat")).isEqualTo(4);
        assertThat(counter("nemotron.generation.tokens", "generate")).isZero();
        // three tokens, two gaps between them
        assertThat(timer("nemotron.inter.token.latency", "chat").count()).isEqualTo(2);
        // 30 ms: above the 25 ms bucket, inside the 50 ms one
        assertThat(bucket(timer("nemotron.time.to.first.token", "chat"), 0.025)).isZero();
        assertThat(bucket(timer("nemotron.time.to.first.token", "chat"), 0.050)).isEqualTo(1);
        // 1.5 s: above 1 s, inside 2.5 s
        assertThat(bucket(timer("nemotron.e2e.request.latency", "chat"), 1.0)).isZero();
        assertThat(bucket(timer("nemotron.e2e.request.latency", "chat"), 2.5)).isEqualTo(1);
        // 2 ms: above 1 ms, inside 5 ms
        assertThat(bucket(timer("nemotron.request.queue.time", "chat"), 0.001)).isZero();
        assertThat(bucket(timer("nemotron.request.queue.time", "chat"), 0.005)).isEqualTo(1);
    }

    @Test
    void aRequestWithoutTokensRecordsNoTimeToFirstTokenAndErrorsAreCountedToo() {
        RequestMetrics metrics = new RequestMetrics(registry);
        List<String> seen = new ArrayList<>();
        EngineListener listener = metrics.listen(RequestMetrics.GENERATE, recording(seen));

        listener.onError(new IllegalStateException("backend"), new RequestStats(5, 0, 0, 0, 0, 40_000_000));

        assertThat(seen).containsExactly("error backend");
        assertThat(timer("nemotron.time.to.first.token", "generate").count()).isZero();
        assertThat(timer("nemotron.request.queue.time", "generate").count()).isZero();
        assertThat(timer("nemotron.e2e.request.latency", "generate").count()).isEqualTo(1);
        assertThat(counter("nemotron.prompt.tokens", "generate")).isEqualTo(5);
        assertThatThrownBy(() -> metrics.listen("embed", recording(seen))).hasMessageContaining("rpc embed");
    }

    @Test
    void droppedDocumentsAreCountedByReason() {
        RequestMetrics metrics = new RequestMetrics(registry);
        metrics.documentsDropped(List.of(new DroppedDocument("a", DroppedDocument.Reason.NO_ROOM),
                new DroppedDocument("b", DroppedDocument.Reason.DUPLICATE),
                new DroppedDocument("c", DroppedDocument.Reason.NO_ROOM)));

        assertThat(registry.get("nemotron.rag.documents.dropped").tag("reason", "no_room").counter().count()).isEqualTo(2);
        assertThat(registry.get("nemotron.rag.documents.dropped").tag("reason", "duplicate").counter().count()).isEqualTo(1);
        assertThat(registry.get("nemotron.rag.documents.dropped").tag("reason", "empty").counter().count()).isZero();
    }

    @Test
    void stepsFillStepTimeAndBatchHistogramsAndFailedStepsCountAsBackendErrors() {
        StepMetrics steps = new StepMetrics(registry);
        steps.onStep(4, 37, 3_000_000);
        steps.onStep(1, 1, 1_500_000);
        steps.onStepFailed(new IllegalStateException("cuda"), 2, 100);

        Timer stepTime = registry.get("nemotron.engine.step").timer();
        assertThat(stepTime.count()).isEqualTo(2);
        assertThat(stepTime.totalTime(java.util.concurrent.TimeUnit.MICROSECONDS)).isEqualTo(4500);
        // 1.5 ms and 3 ms: none within 1 ms, one within 2 ms, both within 5 ms
        assertThat(bucket(stepTime, 0.001)).isZero();
        assertThat(bucket(stepTime, 0.002)).isEqualTo(1);
        assertThat(bucket(stepTime, 0.005)).isEqualTo(2);
        DistributionSummary batch = registry.get("nemotron.engine.batch.size").summary();
        assertThat(batch.count()).isEqualTo(2);
        assertThat(batch.totalAmount()).isEqualTo(5);
        assertThat(bucket(batch, 2)).isEqualTo(1);
        assertThat(bucket(batch, 4)).isEqualTo(2);
        DistributionSummary tokens = registry.get("nemotron.engine.batch.tokens").summary();
        assertThat(tokens.totalAmount()).isEqualTo(38);
        assertThat(bucket(tokens, 32)).isEqualTo(1);
        assertThat(bucket(tokens, 64)).isEqualTo(2);
        assertThat(registry.get("nemotron.backend.errors").counter().count()).isEqualTo(1);
    }

    @Test
    void toolCallParseFailuresAndValidationErrorsAreCountedOncePerResponse() {
        ToolCallMetrics metrics = new ToolCallMetrics(registry);

        // AUTO: a malformed block, then a call without its required argument and with an unknown one
        ToolCallPipeline auto = new ToolCallPipeline(weatherRequest(), ToolChoice.AUTO, new BufferedChatOutput(), metrics);
        auto.accept("<TOOLCALL>[get_weather(</TOOLCALL> then <TOOLCALL>[get_weather(town=\"Paris\")]</TOOLCALL>");
        auto.finish();
        auto.finish(); // a second finish must not count again
        assertThat(registry.get("nemotron.tool.call.parse.failures").counter().count()).isEqualTo(1);
        assertThat(registry.get("nemotron.tool.call.validation.errors").counter().count()).isEqualTo(1);

        // REQUIRED, only a malformed block: one parse failure and the breach (no call at all) as a validation error
        ToolCallPipeline required = new ToolCallPipeline(weatherRequest(), ToolChoice.REQUIRED,
                new BufferedChatOutput(), metrics);
        required.accept("<TOOLCALL>[get_weather(city=)]</TOOLCALL>");
        required.finish();
        assertThat(registry.get("nemotron.tool.call.parse.failures").counter().count()).isEqualTo(2);
        assertThat(registry.get("nemotron.tool.call.validation.errors").counter().count()).isEqualTo(2);

        // a valid call counts nothing
        ToolCallPipeline valid = new ToolCallPipeline(weatherRequest(), ToolChoice.AUTO, new BufferedChatOutput(), metrics);
        valid.accept("<TOOLCALL>[get_weather(city=\"Paris\")]</TOOLCALL>");
        valid.finish();
        assertThat(registry.get("nemotron.tool.call.parse.failures").counter().count()).isEqualTo(2);
        assertThat(registry.get("nemotron.tool.call.validation.errors").counter().count()).isEqualTo(2);
    }

    @Test
    void gatewayNamesAreWrittenExactlyAsThePickerReadsThem() {
        AtomicReference<EngineSnapshot> snapshot = new AtomicReference<>();
        GatewayMetrics gateway = new GatewayMetrics(snapshot::get);

        String loading = gateway.scrape();
        assertThat(loading).contains("\nvllm:num_requests_waiting 0.0\n", "\nvllm:kv_cache_usage_perc 0.0\n")
                .doesNotContain("vllm:cache_config_info{");

        snapshot.set(new EngineSnapshot(3, 2, 100, 25, 16, 0, 0, 0, 0));
        String loaded = gateway.scrape();
        assertThat(loaded).contains(
                "# TYPE vllm:num_requests_waiting gauge\n",
                "\nvllm:num_requests_waiting 2.0\n",
                "\nvllm:num_requests_running 3.0\n",
                "\nvllm:kv_cache_usage_perc 0.75\n",
                "\nvllm:gpu_cache_usage_perc 0.75\n",
                "\nvllm:cache_config_info{block_size=\"16\",num_gpu_blocks=\"100\"} 1\n");
    }

    @Test
    void resilienceRegistriesAreBoundOnlyWhenTheyExist() {
        // none defined (the server without the admission package): nothing bound, nothing fails
        StaticListableBeanFactory none = new StaticListableBeanFactory();
        new ResilienceMetrics(none.getBeanProvider(CircuitBreakerRegistry.class),
                none.getBeanProvider(BulkheadRegistry.class), none.getBeanProvider(RateLimiterRegistry.class))
                .bindTo(registry);
        assertThat(registry.getMeters()).isEmpty();

        // a breaker registry with one breaker, and a bulkhead created after binding: both get meters
        StaticListableBeanFactory beans = new StaticListableBeanFactory();
        CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();
        breakers.circuitBreaker("engine");
        BulkheadRegistry bulkheads = BulkheadRegistry.ofDefaults();
        beans.addBean("circuitBreakerRegistry", breakers);
        beans.addBean("bulkheadRegistry", bulkheads);
        new ResilienceMetrics(beans.getBeanProvider(CircuitBreakerRegistry.class),
                beans.getBeanProvider(BulkheadRegistry.class), beans.getBeanProvider(RateLimiterRegistry.class))
                .bindTo(registry);
        bulkheads.bulkhead("streams");

        assertThat(registry.get("resilience4j.circuitbreaker.state").tag("name", "engine").tag("state", "closed")
                .gauge().value()).isEqualTo(1);
        assertThat(registry.get("resilience4j.bulkhead.max.allowed.concurrent.calls").tag("name", "streams")
                .gauge().value()).isEqualTo(25); // Resilience4j's default maxConcurrentCalls
        assertThat(registry.find("resilience4j.ratelimiter.available.permissions").meters()).isEmpty();
    }

    private double gauge(String name) {
        return registry.get(name).gauge().value();
    }

    private double counter(String name, String rpc) {
        return registry.get(name).tag("rpc", rpc).counter().count();
    }

    private Timer timer(String name, String rpc) {
        return registry.get(name).tag("rpc", rpc).timer();
    }

    /** The cumulative count of the SLO bucket whose upper bound is {@code le} (seconds for timers). */
    private static double bucket(Timer timer, double le) {
        return countAt(timer.takeSnapshot().histogramCounts(), le * 1e9);
    }

    private static double bucket(DistributionSummary summary, double le) {
        return countAt(summary.takeSnapshot().histogramCounts(), le);
    }

    private static double countAt(CountAtBucket[] buckets, double bound) {
        for (CountAtBucket b : buckets) {
            if (Math.abs(b.bucket() - bound) < 1e-6 * bound) {
                return b.count();
            }
        }
        throw new AssertionError("no bucket at " + bound);
    }

    private static ChatRequest weatherRequest() {
        Map<String, Object> tool = Map.of("name", "get_weather", "description", "Weather of a city",
                "parameters", Map.of("type", "object", "properties", Map.of("city", Map.of("type", "string")),
                        "required", List.of("city"), "additionalProperties", false));
        return new ChatRequest(List.of(new ChatMessage(Role.USER, "Weather in Paris?", List.of(), null, null)),
                List.of(tool), null, List.of(), null, null);
    }

    private static EngineListener recording(List<String> seen) {
        return new EngineListener() {
            @Override
            public void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {
                seen.add("token " + tokenId);
            }

            @Override
            public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
                seen.add("finished " + reason);
            }

            @Override
            public void onError(Throwable error, RequestStats stats) {
                seen.add("error " + error.getMessage());
            }
        };
    }
}
