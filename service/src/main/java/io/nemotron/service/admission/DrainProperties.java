package io.nemotron.service.admission;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code nemotron.drain.*}.
 *
 * @param gracePeriod how long streams in flight may run on after shutdown starts (keep Kubernetes'
 *                    terminationGracePeriodSeconds above it plus a few seconds of flush)
 */
@ConfigurationProperties("nemotron.drain")
public record DrainProperties(Duration gracePeriod) {}
