package io.nemotron.service.metrics;

import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedRateLimiterMetrics;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Binds the Resilience4j registries the admission package defines (circuit breaker, bulkhead, rate limiter), each
 * only if it exists: the server runs without them too. Boot binds MeterBinders after all singletons exist, and the
 * tagged binders follow instances added to a registry later.
 */
public final class ResilienceMetrics implements MeterBinder {
    private final ObjectProvider<CircuitBreakerRegistry> circuitBreakers;
    private final ObjectProvider<BulkheadRegistry> bulkheads;
    private final ObjectProvider<RateLimiterRegistry> rateLimiters;

    public ResilienceMetrics(ObjectProvider<CircuitBreakerRegistry> circuitBreakers,
                             ObjectProvider<BulkheadRegistry> bulkheads,
                             ObjectProvider<RateLimiterRegistry> rateLimiters) {
        this.circuitBreakers = circuitBreakers;
        this.bulkheads = bulkheads;
        this.rateLimiters = rateLimiters;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        circuitBreakers.ifAvailable(r -> TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(r).bindTo(registry));
        bulkheads.ifAvailable(r -> TaggedBulkheadMetrics.ofBulkheadRegistry(r).bindTo(registry));
        rateLimiters.ifAvailable(r -> TaggedRateLimiterMetrics.ofRateLimiterRegistry(r).bindTo(registry));
    }
}
