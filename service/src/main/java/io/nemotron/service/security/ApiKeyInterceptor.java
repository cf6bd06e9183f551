package io.nemotron.service.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;
import java.util.Set;
import org.springframework.core.Ordered;

/**
 * Checks {@code authorization: Bearer <key>} metadata against {@link ApiKeys} before any request message is read,
 * and puts the caller's {@link ClientIdentity} into the call's {@link Context}. Calls to the open services (health,
 * reflection by default) pass without a key. Refusals are UNAUTHENTICATED with a description that never holds the
 * presented value.
 * <p>
 * Registered as a Spring gRPC global interceptor by {@link SecurityConfiguration}.
 */
public final class ApiKeyInterceptor implements ServerInterceptor, Ordered {
    /**
     * Spring gRPC runs global interceptors lowest order first, the first one outermost. The metrics interceptor has
     * {@link Ordered#HIGHEST_PRECEDENCE} so that it counts refused calls too (UNAUTHENTICATED is an outcome worth a
     * graph); this one runs just inside it, and before the rate limiter and admission, which need the identity.
     */
    public static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 100;

    static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> WWW_AUTHENTICATE =
            Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER);
    private static final String BEARER = "bearer ";

    static final String MISSING = "missing authorization: Bearer <key> metadata";
    static final String INVALID = "invalid API key";

    private final ApiKeys keys;
    private final Set<String> openServices;

    public ApiKeyInterceptor(ApiKeys keys, Set<String> openServices) {
        this.keys = keys;
        this.openServices = Set.copyOf(openServices);
    }

    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        if (!keys.enabled()) {
            return proceed(ClientIdentity.ANONYMOUS, call, headers, next);
        }
        String presented = bearerToken(headers.get(AUTHORIZATION));
        Optional<String> identity = presented == null ? Optional.empty() : keys.identify(presented);
        if (identity.isPresent()) {
            return proceed(identity.get(), call, headers, next);
        }
        if (openServices.contains(call.getMethodDescriptor().getServiceName())) {
            return proceed(ClientIdentity.ANONYMOUS, call, headers, next);
        }
        Metadata trailers = new Metadata();
        trailers.put(WWW_AUTHENTICATE, "Bearer");
        call.close(Status.UNAUTHENTICATED.withDescription(presented == null ? MISSING : INVALID), trailers);
        return new ServerCall.Listener<>() {};
    }

    private static <Q, R> ServerCall.Listener<Q> proceed(String identity, ServerCall<Q, R> call, Metadata headers,
                                                         ServerCallHandler<Q, R> next) {
        Context context = Context.current().withValue(ClientIdentity.CURRENT, identity);
        return Contexts.interceptCall(context, call, headers, next);
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
