package io.nemotron.service.security;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.grpc.server.GlobalServerInterceptor;

/** API keys and the interceptor that checks them; TLS is Spring gRPC's own ({@code spring.grpc.server.ssl.*}). */
@Configuration(proxyBeanMethods = false)
public class SecurityConfiguration {
    private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);

    /** Loaded once at startup: a malformed, empty or missing keys file stops the server here, naming the file. */
    @Bean
    ApiKeys apiKeys(SecurityProperties props) {
        ApiKeys keys = ApiKeys.load(props);
        if (keys.enabled()) {
            log.info("API key authentication on: {} key(s) {}; open services without a key: {}", keys.size(),
                    keys.identities(), props.openServices().isEmpty() ? "none" : props.openServices());
        } else {
            log.warn("API key authentication OFF: no key in nemotron.security.api-keys or api-keys-file "
                    + "(set nemotron.security.require-api-key=true to refuse to start like this)");
        }
        return keys;
    }

    @Bean
    @GlobalServerInterceptor
    ApiKeyInterceptor apiKeyInterceptor(ApiKeys keys, SecurityProperties props) {
        return new ApiKeyInterceptor(keys, props.openServices());
    }

    /** Prompts and outputs reach the log only through this bean, which exists only when log-content is true. */
    @Bean
    @GlobalServerInterceptor
    @ConditionalOnBooleanProperty("nemotron.security.log-content")
    ContentLogInterceptor contentLogInterceptor() {
        log.warn("nemotron.security.log-content is true: prompts and outputs are logged (logger {})",
                ContentLogInterceptor.LOGGER);
        return new ContentLogInterceptor();
    }
}
