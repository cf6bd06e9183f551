package io.nemotron.service.metrics;

import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.grpc.health.v1.HealthGrpc;
import io.micrometer.core.instrument.MeterRegistry;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.core.engine.EngineSnapshot;
import io.nemotron.service.engine.ModelHost;
import java.util.function.Supplier;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.grpc.server.GlobalServerInterceptor;

/** Wires the metrics: meters on Boot's registry (served at /actuator/prometheus), hooks into the engine and the RPCs. */
@Configuration(proxyBeanMethods = false)
public class MetricsConfiguration {

    /**
     * Highest precedence makes it the outermost global interceptor (Spring gRPC applies them in order, first =
     * outermost), so it sees the final status of every call, including those that auth or admission interceptors
     * end before the service runs. Keep it first when adding interceptors.
     */
    @Bean
    @GlobalServerInterceptor
    @Order(Ordered.HIGHEST_PRECEDENCE)
    RequestOutcomeInterceptor requestOutcomeInterceptor(MeterRegistry registry) {
        return new RequestOutcomeInterceptor(registry, NemotronGrpc.getServiceDescriptor(),
                HealthGrpc.getServiceDescriptor());
    }

    @Bean
    PromtoolCleanFilter promtoolCleanFilter() {
        return new PromtoolCleanFilter();
    }

    @Bean
    RequestMetrics requestMetrics(MeterRegistry registry) {
        return new RequestMetrics(registry);
    }

    @Bean
    ToolCallMetrics toolCallMetrics(MeterRegistry registry) {
        return new ToolCallMetrics(registry);
    }

    @Bean
    ModelLoadMetrics modelLoadMetrics(ModelHost host) {
        return new ModelLoadMetrics(host::loadProgress);
    }

    @Bean
    EngineLoadMetrics engineLoadMetrics(ModelHost host) {
        return new EngineLoadMetrics(snapshots(host));
    }

    /** The step observer joins the engine once it is loaded (the warm-up's steps are not counted). */
    @Bean
    StepMetrics stepMetrics(MeterRegistry registry, ModelHost host) {
        StepMetrics steps = new StepMetrics(registry);
        host.loaded().thenAccept(m -> m.engine().addStepObserver(steps));
        return steps;
    }

    @Bean
    GatewayMetrics gatewayMetrics(ModelHost host) {
        return new GatewayMetrics(snapshots(host));
    }

    @Bean
    GatewayMetricsEndpoint gatewayMetricsEndpoint(GatewayMetrics metrics) {
        return new GatewayMetricsEndpoint(metrics);
    }

    @Bean
    ResilienceMetrics resilienceMetrics(ObjectProvider<CircuitBreakerRegistry> circuitBreakers,
                                        ObjectProvider<BulkheadRegistry> bulkheads,
                                        ObjectProvider<RateLimiterRegistry> rateLimiters) {
        return new ResilienceMetrics(circuitBreakers, bulkheads, rateLimiters);
    }

    /** The loaded engine's snapshot; null while the model loads or after it failed to load. */
    private static Supplier<EngineSnapshot> snapshots(ModelHost host) {
        return () -> {
            var loaded = host.loaded();
            return loaded.isDone() && !loaded.isCompletedExceptionally() ? loaded.resultNow().engine().snapshot() : null;
        };
    }
}
