package io.nemotron.service.http;

import java.util.Locale;
import org.springframework.boot.web.server.ConfigurableWebServerFactory;
import org.springframework.boot.web.server.Ssl;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.env.Environment;

/**
 * The HTTP API gets the gRPC port's TLS: when {@code spring.grpc.server.ssl.bundle} names a bundle (and gRPC TLS is not
 * switched off), the HTTP server uses the same SSL bundle and the same client authentication (NONE, OPTIONAL → want,
 * REQUIRE → need), so one setting secures both APIs and a client certificate good for one is good for the other.
 * {@code server.ssl.*} set explicitly wins. The management port is a separate server and stays plaintext (its
 * customizers live in its own context).
 */
final class HttpTls implements WebServerFactoryCustomizer<ConfigurableWebServerFactory> {
    private final Environment env;

    HttpTls(Environment env) {
        this.env = env;
    }

    @Override
    public void customize(ConfigurableWebServerFactory factory) {
        Ssl ssl = sslOf(env);
        if (ssl != null) {
            factory.setSsl(ssl);
        }
    }

    /** The HTTP server's Ssl that follows gRPC's settings, or null when it should not (no gRPC TLS, or server.ssl set). */
    static Ssl sslOf(Environment env) {
        String bundle = env.getProperty("spring.grpc.server.ssl.bundle");
        boolean grpcTls = bundle != null && !bundle.isBlank()
                && env.getProperty("spring.grpc.server.ssl.enabled", Boolean.class, true);
        if (!grpcTls || env.containsProperty("server.ssl.bundle") || env.containsProperty("server.ssl.enabled")) {
            return null;
        }
        Ssl ssl = new Ssl();
        ssl.setBundle(bundle);
        String auth = env.getProperty("spring.grpc.server.ssl.client-auth", "NONE").toUpperCase(Locale.ROOT);
        ssl.setClientAuth(switch (auth) {
            case "REQUIRE" -> Ssl.ClientAuth.NEED;
            case "OPTIONAL" -> Ssl.ClientAuth.WANT;
            case "NONE" -> Ssl.ClientAuth.NONE;
            default -> throw new IllegalArgumentException("spring.grpc.server.ssl.client-auth '" + auth
                    + "' is not one of NONE, OPTIONAL, REQUIRE");
        });
        return ssl;
    }
}
