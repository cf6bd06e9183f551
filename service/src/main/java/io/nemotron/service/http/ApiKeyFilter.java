package io.nemotron.service.http;

import io.nemotron.service.security.ApiKeys;
import io.nemotron.service.security.ClientIdentity;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * {@code Authorization: Bearer <key>} against the same {@link ApiKeys} as gRPC's interceptor; 401 in OpenAI's error
 * shape otherwise (never echoing the presented value). The caller's identity goes into {@link #IDENTITY} for the
 * rate limiter.
 */
final class ApiKeyFilter extends OncePerRequestFilter {
    static final String IDENTITY = ApiKeyFilter.class.getName() + ".identity";
    private static final String BEARER = "bearer ";

    private final ApiKeys keys;

    ApiKeyFilter(ApiKeys keys) {
        this.keys = keys;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!keys.enabled()) {
            request.setAttribute(IDENTITY, ClientIdentity.ANONYMOUS);
            chain.doFilter(request, response);
            return;
        }
        String presented = bearerToken(request.getHeader(HttpHeaders.AUTHORIZATION));
        Optional<String> identity = presented == null ? Optional.empty() : keys.identify(presented);
        if (identity.isEmpty()) {
            HttpResponses.write(response, ApiError.unauthorized(presented == null
                    ? "missing Authorization: Bearer <key> header" : "invalid API key"));
            return;
        }
        request.setAttribute(IDENTITY, identity.get());
        chain.doFilter(request, response);
    }

    /** The token of a {@code Bearer} credential (scheme case-insensitive, RFC 7235), or null. */
    static String bearerToken(String authorization) {
        if (authorization == null || authorization.length() <= BEARER.length()
                || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return null;
        }
        String token = authorization.substring(BEARER.length()).strip();
        return token.isEmpty() ? null : token;
    }
}
