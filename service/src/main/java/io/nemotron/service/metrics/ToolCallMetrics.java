package io.nemotron.service.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nemotron.service.toolcall.ToolCallOutcomes;

/** Counts what the Chat RPC's tool-call parser could not use: malformed blocks, and calls that break the schemas. */
public final class ToolCallMetrics implements ToolCallOutcomes {
    private final Counter parseFailures;
    private final Counter validationErrors;

    public ToolCallMetrics(MeterRegistry registry) {
        parseFailures = Counter.builder("nemotron.tool.call.parse.failures")
                .description("Malformed <TOOLCALL> blocks (returned as content with an error event)")
                .register(registry);
        validationErrors = Counter.builder("nemotron.tool.call.validation.errors")
                .description("Tool calls that break the request's tool schemas, and tool_choice breaches")
                .register(registry);
    }

    @Override
    public void finished(int parseFailures, int validationErrors) {
        this.parseFailures.increment(parseFailures);
        this.validationErrors.increment(validationErrors);
    }
}
