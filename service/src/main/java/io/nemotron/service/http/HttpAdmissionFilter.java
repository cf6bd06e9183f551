package io.nemotron.service.http;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.nemotron.service.admission.ActiveStreams;
import io.nemotron.service.admission.ClientRateLimiters;
import io.nemotron.service.admission.EngineCircuitBreaker;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.security.ClientIdentity;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The gRPC admission's rules for HTTP, on the same shared state: draining or an open breaker is 503, a client over
 * its rate or a full stream cap ({@code nemotron.admission.max-concurrent-streams}, counted across gRPC and HTTP) is
 * 429; both with Retry-After. A generation route holds its permit and counts as an open stream (which the drain
 * waits for) until its response ends, streamed or not. Runs inside authentication, so rates are charged to
 * authenticated clients only.
 */
final class HttpAdmissionFilter extends OncePerRequestFilter {
    /** The routes that run on the engine: the only ones holding a stream permit. */
    static final Set<String> GENERATION_ROUTES = Set.of("/v1/chat/completions", "/v1/completions");

    private final ModelHost host;
    private final EngineCircuitBreaker breaker;
    private final ClientRateLimiters rateLimiters;
    private final Bulkhead streams;
    private final ActiveStreams active;
    private final Duration retryAfter;

    HttpAdmissionFilter(ModelHost host, EngineCircuitBreaker breaker, ClientRateLimiters rateLimiters,
                        Bulkhead streams, ActiveStreams active, Duration retryAfter) {
        this.host = host;
        this.breaker = breaker;
        this.rateLimiters = rateLimiters;
        this.streams = streams;
        this.active = active;
        this.retryAfter = retryAfter;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (host.isDraining()) {
            HttpResponses.write(response, ApiError.unavailable("the server is shutting down", retryAfter));
            return;
        }
        if (breaker.rejectsCalls()) {
            HttpResponses.write(response, ApiError.unavailable(
                    "the backend is failing (circuit breaker open); retry later", breaker.retryAfter()));
            return;
        }
        Object identity = request.getAttribute(ApiKeyFilter.IDENTITY);
        String client = identity == null ? ClientIdentity.ANONYMOUS : identity.toString();
        Duration wait = rateLimiters.refusal(client);
        if (wait != null) {
            HttpResponses.write(response, ApiError.tooManyRequests("rate_limit_exceeded",
                    "rate limit: client " + client + " is over nemotron.admission.rate-limit", wait));
            return;
        }
        if (!GENERATION_ROUTES.contains(request.getRequestURI())) {
            chain.doFilter(request, response);
            return;
        }
        if (!streams.tryAcquirePermission()) {
            HttpResponses.write(response, ApiError.tooManyRequests("too_many_streams", "too many concurrent streams ("
                    + streams.getBulkheadConfig().getMaxConcurrentCalls()
                    + ", nemotron.admission.max-concurrent-streams); retry later", retryAfter));
            return;
        }
        active.opened();
        RequestEnd.whenDone(request, () -> {
            streams.onComplete();
            active.closed();
        }, () -> chain.doFilter(request, response));
    }
}
