package io.nemotron.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** The environment variables the Helm chart sets bind as documented. */
class SecurityPropertiesTest {

    private static SecurityProperties bind(Map<String, Object> env) {
        var source = new SystemEnvironmentPropertySource("env", env);
        return new Binder(ConfigurationPropertySources.from(source))
                .bindOrCreate("nemotron.security", SecurityProperties.class);
    }

    @Test
    void environmentVariables() {
        SecurityProperties p = bind(Map.of("NEMOTRON_SECURITY_API_KEYS", "k-one,k-two",
                "NEMOTRON_SECURITY_API_KEYS_FILE", "/etc/nemotron/api-keys/keys",
                "NEMOTRON_SECURITY_REQUIRE_API_KEY", "true"));
        assertThat(p.apiKeys()).containsExactly("k-one", "k-two");
        assertThat(p.apiKeysFile()).isEqualTo("/etc/nemotron/api-keys/keys");
        assertThat(p.requireApiKey()).isTrue();
        assertThat(p.logContent()).isFalse();
    }

    @Test
    void defaults() {
        SecurityProperties p = bind(Map.of());
        assertThat(p.apiKeys()).isEmpty();
        assertThat(p.apiKeysFile()).isNull();
        assertThat(p.requireApiKey()).isFalse();
        assertThat(p.openServices()).containsExactlyInAnyOrder("grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");
    }

    @Test
    void anEmptyOpenServicesListClosesHealthAndReflectionToo() {
        assertThat(bind(Map.of("NEMOTRON_SECURITY_OPEN_SERVICES", "")).openServices()).isEmpty();
    }
}
