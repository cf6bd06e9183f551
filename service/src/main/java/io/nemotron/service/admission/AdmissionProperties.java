package io.nemotron.service.admission;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Everything under {@code nemotron.admission.*}: how much work the server takes before it says no.
 *
 * @param maxConcurrentStreams Chat/Generate streams open at once; one more gets RESOURCE_EXHAUSTED at once
 * @param retryAfter           the back-off suggested to rejected clients (trailers {@code grpc-retry-pushback-ms}
 *                             and a {@code google.rpc.RetryInfo} status detail)
 * @param rateLimit            per-client request rate (client = API key)
 * @param breaker              the circuit breaker around engine steps
 */
@ConfigurationProperties("nemotron.admission")
public record AdmissionProperties(int maxConcurrentStreams, Duration retryAfter, RateLimit rateLimit,
                                  Breaker breaker) {

    public AdmissionProperties {
        if (maxConcurrentStreams < 1) {
            throw new IllegalArgumentException("nemotron.admission.max-concurrent-streams must be >= 1, got "
                    + maxConcurrentStreams);
        }
        if (retryAfter == null || retryAfter.isNegative()) {
            throw new IllegalArgumentException("nemotron.admission.retry-after must be a non-negative duration");
        }
    }

    /**
     * @param requestsPerPeriod requests one client may start per period; 0 turns rate limiting off
     * @param period            the refill period of each client's allowance
     */
    public record RateLimit(int requestsPerPeriod, Duration period) {
        public boolean enabled() {
            return requestsPerPeriod > 0;
        }
    }

    /**
     * Resilience4j's count-based breaker over engine steps (each forward pass is one call).
     *
     * @param failureRateThreshold      percent of failed steps in the window that opens it
     * @param slidingWindowSize         steps in the window
     * @param minimumNumberOfCalls      steps needed before the rate counts
     * @param waitDurationInOpenState   how long calls fail fast before half-open probes run
     * @param permittedCallsInHalfOpen  steps that must succeed while half-open to close it again
     */
    public record Breaker(float failureRateThreshold, int slidingWindowSize, int minimumNumberOfCalls,
                          Duration waitDurationInOpenState, int permittedCallsInHalfOpen) {}
}
