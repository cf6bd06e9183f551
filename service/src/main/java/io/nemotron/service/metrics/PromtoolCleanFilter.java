package io.nemotron.service.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import java.util.Set;

/**
 * Drops the few stock meters whose exposition {@code promtool check metrics} rejects, so the whole of
 * /actuator/prometheus passes it (a lint failure nobody fixes hides the next one):
 * {@code jvm_compilation_time_ms_total} and {@code process_cpu_time_ns_total} (abbreviated, non-base units; JIT time
 * is minor and {@code process_cpu_usage} stays), {@code system_cpu_count} ("_count" on a gauge; the pod spec says
 * the cores), and Tomcat's session meters (no help text; the management port keeps no sessions).
 */
public final class PromtoolCleanFilter implements MeterFilter {
    private static final Set<String> DENIED = Set.of("jvm.compilation.time", "process.cpu.time", "system.cpu.count");

    @Override
    public MeterFilterReply accept(Meter.Id id) {
        return DENIED.contains(id.getName()) || id.getName().startsWith("tomcat.sessions.") ? MeterFilterReply.DENY
                : MeterFilterReply.NEUTRAL;
    }
}
