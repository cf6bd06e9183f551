package io.nemotron.service.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Counts every HTTP API request once, when its response ends, in the same family as gRPC's RPCs
 * ({@code nemotron_requests_total}): {@code service="openai.v1"}, {@code method} the route, {@code code} the gRPC code
 * the HTTP status stands for (400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE,
 * 500 INTERNAL), so one query over {@code code} covers both transports. Outermost filter: refusals by
 * authentication and admission are counted too.
 */
final class HttpRequestCounter extends OncePerRequestFilter {
    static final String NAME = "nemotron.requests";
    static final String SERVICE = "openai.v1";
    static final List<String> ROUTES = List.of("/v1/chat/completions", "/v1/completions", "/v1/models");

    private final MeterRegistry registry;

    HttpRequestCounter(MeterRegistry registry) {
        this.registry = registry;
        ROUTES.forEach(route -> counter(route, "OK")); // the family exists at zero before the first request
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String uri = request.getRequestURI();
        String route = ROUTES.contains(uri) ? uri : "other";
        RequestEnd.whenDone(request, () -> counter(route, code(response.getStatus())).increment(),
                () -> chain.doFilter(request, response));
    }

    static String code(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400, 405, 413, 415 -> "INVALID_ARGUMENT";
            case 401 -> "UNAUTHENTICATED";
            case 403 -> "PERMISSION_DENIED";
            case 404 -> "NOT_FOUND";
            case 429 -> "RESOURCE_EXHAUSTED";
            case 503 -> "UNAVAILABLE";
            case 500 -> "INTERNAL";
            default -> "UNKNOWN";
        };
    }

    private Counter counter(String route, String code) {
        return Counter.builder(NAME)
                // the gRPC interceptor's help text: one family has one description
                .description("RPCs by method and final gRPC status code")
                .tag("service", SERVICE)
                .tag("method", route)
                .tag("code", code)
                .register(registry);
    }
}
