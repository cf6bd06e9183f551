package io.nemotron.service.admission;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.grpc.Status;
import io.nemotron.service.engine.ModelHost;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.grpc.server.GlobalServerInterceptor;

/** Admission control and the engine breaker; their Resilience4j registries are beans so metrics can bind them. */
@Configuration(proxyBeanMethods = false)
public class AdmissionConfiguration {

    @Bean
    BulkheadRegistry bulkheadRegistry(AdmissionProperties props) {
        // load the rejection path's classes (protobuf status details) now, not under the first overload
        RetryHint.reject(Status.Code.RESOURCE_EXHAUSTED, "warm-up", props.retryAfter());
        // no waiting for a permit: an over-capacity stream is told at once (the client may go to another replica)
        return BulkheadRegistry.of(BulkheadConfig.custom()
                .maxConcurrentCalls(props.maxConcurrentStreams())
                .maxWaitDuration(Duration.ZERO)
                .build());
    }

    @Bean
    Bulkhead streamBulkhead(BulkheadRegistry registry) {
        return registry.bulkhead("streams");
    }

    @Bean
    ClientRateLimiters clientRateLimiters(AdmissionProperties props) {
        return new ClientRateLimiters(props.rateLimit());
    }

    @Bean
    RateLimiterRegistry rateLimiterRegistry(ClientRateLimiters limiters) {
        return limiters.registry();
    }

    @Bean
    EngineCircuitBreaker engineCircuitBreaker(AdmissionProperties props, ModelHost host) {
        return new EngineCircuitBreaker(props.breaker(), host);
    }

    @Bean
    CircuitBreakerRegistry circuitBreakerRegistry(EngineCircuitBreaker breaker) {
        return breaker.registry();
    }

    @Bean
    ActiveStreams activeStreams() {
        return new ActiveStreams();
    }

    @Bean
    GracefulDrain gracefulDrain(ModelHost host, ActiveStreams active, DrainProperties props) {
        return new GracefulDrain(host, active, props.gracePeriod());
    }

    /**
     * Inside authentication (which runs at {@code HIGHEST_PRECEDENCE + 100}) so only authenticated calls are
     * charged, and inside the metrics interceptor so rejections are counted.
     */
    @Bean
    @GlobalServerInterceptor
    @Order(Ordered.HIGHEST_PRECEDENCE + 200)
    AdmissionInterceptor admissionInterceptor(ModelHost host, EngineCircuitBreaker breaker,
                                              ClientRateLimiters limiters, Bulkhead streamBulkhead,
                                              ActiveStreams active, AdmissionProperties props) {
        return new AdmissionInterceptor(host, breaker, limiters, streamBulkhead, active, props.retryAfter());
    }
}
