package io.nemotron.service.metrics;

import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint;

/** {@code /actuator/gie} on the management port: the {@link GatewayMetrics} for an inference gateway to scrape. */
@WebEndpoint(id = "gie")
public class GatewayMetricsEndpoint {
    static final String TEXT_FORMAT = "text/plain;version=0.0.4;charset=utf-8";

    private final GatewayMetrics metrics;

    public GatewayMetricsEndpoint(GatewayMetrics metrics) {
        this.metrics = metrics;
    }

    @ReadOperation(produces = TEXT_FORMAT)
    public String scrape() {
        return metrics.scrape();
    }
}
