package io.nemotron.service.http;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.micrometer.core.instrument.MeterRegistry;
import io.nemotron.service.admission.ActiveStreams;
import io.nemotron.service.admission.AdmissionProperties;
import io.nemotron.service.admission.ClientRateLimiters;
import io.nemotron.service.admission.EngineCircuitBreaker;
import io.nemotron.service.config.NemotronProperties;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.security.ApiKeys;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;

/**
 * The HTTP API's filters, outermost first: metrics, authentication, admission, the body size limit. They apply to {@code /v1/*} only (the
 * actuator lives on the management port).
 */
@Configuration(proxyBeanMethods = false)
public class HttpConfiguration {
    private static final String API = "/v1/*";

    /** TLS on the HTTP API as on the gRPC port ({@link HttpTls}). */
    @Bean
    HttpTls httpTls(Environment env) {
        return new HttpTls(env);
    }

    @Bean
    FilterRegistrationBean<HttpRequestCounter> httpRequestCounter(MeterRegistry registry) {
        return registration(new HttpRequestCounter(registry), Ordered.HIGHEST_PRECEDENCE);
    }

    @Bean
    FilterRegistrationBean<ApiKeyFilter> httpApiKeyFilter(ApiKeys keys) {
        return registration(new ApiKeyFilter(keys), Ordered.HIGHEST_PRECEDENCE + 100);
    }

    @Bean
    FilterRegistrationBean<BodySizeFilter> httpBodySizeFilter(NemotronProperties props) {
        return registration(new BodySizeFilter(props.grpc().maxRequestSize().toBytes()),
                Ordered.HIGHEST_PRECEDENCE + 300);
    }

    @Bean
    FilterRegistrationBean<HttpAdmissionFilter> httpAdmissionFilter(ModelHost host, EngineCircuitBreaker breaker,
                                                                    ClientRateLimiters limiters,
                                                                    Bulkhead streamBulkhead, ActiveStreams active,
                                                                    AdmissionProperties props) {
        return registration(new HttpAdmissionFilter(host, breaker, limiters, streamBulkhead, active,
                props.retryAfter()), Ordered.HIGHEST_PRECEDENCE + 200);
    }

    private static <F extends jakarta.servlet.Filter> FilterRegistrationBean<F> registration(F filter, int order) {
        FilterRegistrationBean<F> r = new FilterRegistrationBean<>(filter);
        r.addUrlPatterns(API);
        r.setOrder(order);
        r.setAsyncSupported(true);
        return r;
    }
}
