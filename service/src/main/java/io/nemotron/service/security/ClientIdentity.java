package io.nemotron.service.security;

import io.grpc.Context;

/**
 * Who is calling, as {@link ApiKeyInterceptor} established it: the key's identity ({@code key-1a2b3c4d}, see
 * {@link ApiKeys}) or {@link #ANONYMOUS} when authentication is off or an open service was called without a key.
 * The per-client rate limiter keys its buckets on it. Never the key itself.
 */
public final class ClientIdentity {
    public static final String ANONYMOUS = "anonymous";

    /** Set for the whole call (every listener callback) by {@link ApiKeyInterceptor}. */
    public static final Context.Key<String> CURRENT = Context.key("nemotron-client-identity");

    private ClientIdentity() {}

    /** The current call's client, {@link #ANONYMOUS} outside a call. */
    public static String current() {
        String id = CURRENT.get();
        return id == null ? ANONYMOUS : id;
    }
}
