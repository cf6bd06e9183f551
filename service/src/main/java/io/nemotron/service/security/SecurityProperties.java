package io.nemotron.service.security;

import java.util.List;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Everything under {@code nemotron.security.*} (defaults in application.yaml).
 *
 * @param apiKeys        accepted API keys, comma-separated in one property or environment variable
 *                       ({@code NEMOTRON_SECURITY_API_KEYS}); added to those of {@code apiKeysFile}
 * @param apiKeysFile    a file with one key per line; blank lines and lines starting with {@code #} are ignored
 *                       (the Helm chart mounts its Secret at {@code /etc/nemotron/api-keys/keys})
 * @param requireApiKey  refuse to start when no key is configured, so a missing Secret never opens the server
 * @param openServices   fully qualified gRPC services callable without a key (health checks, reflection)
 * @param logContent     log prompts and outputs (logger {@code io.nemotron.service.content}); off by default
 */
@ConfigurationProperties("nemotron.security")
public record SecurityProperties(
        List<String> apiKeys,
        String apiKeysFile,
        boolean requireApiKey,
        @DefaultValue({"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection"}) Set<String> openServices,
        boolean logContent) {

    public SecurityProperties {
        apiKeys = apiKeys == null ? List.of() : List.copyOf(apiKeys);
        apiKeysFile = apiKeysFile == null || apiKeysFile.isBlank() ? null : apiKeysFile.strip();
        openServices = openServices == null ? Set.of() : Set.copyOf(openServices);
    }
}
