package io.nemotron.service.admission;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;

/**
 * One Resilience4j rate limiter per client (API key; one shared "anonymous" client when authentication is off). A
 * client over its allowance is refused at once, never queued: a waiting request would hold a stream while doing
 * nothing. The set of clients is the set of configured keys, so the registry stays small.
 */
public final class ClientRateLimiters {
    private final RateLimiterRegistry registry;
    private final boolean enabled;

    public ClientRateLimiters(AdmissionProperties.RateLimit limit) {
        this.enabled = limit != null && limit.enabled();
        this.registry = RateLimiterRegistry.of(RateLimiterConfig.custom()
                .limitForPeriod(enabled ? limit.requestsPerPeriod() : 1)
                .limitRefreshPeriod(enabled ? limit.period() : Duration.ofSeconds(1))
                .timeoutDuration(Duration.ZERO)
                .build());
    }

    public RateLimiterRegistry registry() {
        return registry;
    }

    /** Takes one request from {@code client}'s allowance: null when granted, else how long until it refills. */
    public Duration refusal(String client) {
        if (!enabled) {
            return null;
        }
        RateLimiter limiter = registry.rateLimiter("client-" + client);
        if (limiter.acquirePermission()) {
            return null;
        }
        if (limiter instanceof AtomicRateLimiter atomic) {
            return Duration.ofNanos(Math.max(1_000_000, atomic.getDetailedMetrics().getNanosToWait()));
        }
        return limiter.getRateLimiterConfig().getLimitRefreshPeriod();
    }
}
