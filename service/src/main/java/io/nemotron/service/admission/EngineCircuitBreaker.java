package io.nemotron.service.admission;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.EngineRequest;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.engine.StepObserver;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.engine.ServingModel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breaker around engine steps. Every forward pass is one call: a failed step (the backend threw) is an
 * error, a completed one a success. When too many fail, the breaker opens: health turns NOT_SERVING (Kubernetes
 * takes the pod out of its Service) and new calls fail fast with UNAVAILABLE instead of queueing for a broken
 * backend. After {@code waitDurationInOpenState} it goes half-open and sends a probe generation through the engine
 * itself, because while NOT_SERVING no client traffic arrives to test the backend; enough good steps close it and
 * health returns to SERVING, a failed one opens it again.
 */
public final class EngineCircuitBreaker implements StepObserver {
    private static final Logger log = LoggerFactory.getLogger(EngineCircuitBreaker.class);

    private final CircuitBreakerRegistry registry;
    private final CircuitBreaker breaker;
    private final ModelHost host;
    private final Duration waitInOpen;
    private final AtomicLong probes = new AtomicLong();
    private volatile ServingModel model;

    public EngineCircuitBreaker(AdmissionProperties.Breaker config, ModelHost host) {
        this.host = host;
        this.waitInOpen = config.waitDurationInOpenState();
        this.registry = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(config.slidingWindowSize())
                .minimumNumberOfCalls(config.minimumNumberOfCalls())
                .failureRateThreshold(config.failureRateThreshold())
                .waitDurationInOpenState(config.waitDurationInOpenState())
                .permittedNumberOfCallsInHalfOpenState(config.permittedCallsInHalfOpen())
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .build());
        this.breaker = registry.circuitBreaker("engine");
        breaker.getEventPublisher().onStateTransition(e -> onTransition(e.getStateTransition().getToState()));
        host.loaded().thenAccept(m -> {
            model = m;
            m.engine().addStepObserver(this);
        });
    }

    public CircuitBreakerRegistry registry() {
        return registry;
    }

    public CircuitBreaker.State state() {
        return breaker.getState();
    }

    /** True while calls must fail fast (open, or forced open by an operator). */
    public boolean rejectsCalls() {
        CircuitBreaker.State s = breaker.getState();
        return s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.FORCED_OPEN;
    }

    /** How long a rejected client should wait: about when the next half-open probe runs. */
    public Duration retryAfter() {
        return waitInOpen;
    }

    /** Probe generations sent so far (tests and logs). */
    public long probes() {
        return probes.get();
    }

    @Override
    public void onStep(int sequences, int tokens, long nanos) {
        breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void onStepFailed(Throwable error, int sequences, long nanos) {
        breaker.onError(nanos, TimeUnit.NANOSECONDS, error);
    }

    private void onTransition(CircuitBreaker.State to) {
        log.warn("engine circuit breaker: {}", to);
        switch (to) {
            case OPEN, FORCED_OPEN, HALF_OPEN -> host.backendHealthy(false);
            case CLOSED, DISABLED, METRICS_ONLY -> host.backendHealthy(true);
        }
        if (to == CircuitBreaker.State.HALF_OPEN) {
            probe();
        }
    }

    /**
     * One short greedy generation: each of its steps counts as a half-open call (a prefill, then decodes), so it
     * carries exactly as many steps as the half-open state needs to decide.
     */
    private void probe() {
        ServingModel m = model;
        if (m == null) {
            return;
        }
        int steps = breaker.getCircuitBreakerConfig().getPermittedNumberOfCallsInHalfOpenState();
        String id = "breaker-probe-" + probes.incrementAndGet();
        try {
            m.engine().submit(EngineRequest.of(id, m.probePrompt(), SamplingParams.greedy(steps)), probeListener);
        } catch (RuntimeException e) {
            // the engine refused the probe (shut down, queue full): that is a failed call too
            breaker.onError(0, TimeUnit.NANOSECONDS, e);
        }
    }

    /**
     * The probe's output does not matter, only its steps' outcomes, which the breaker hears as a StepObserver. While
     * the breaker is still deciding (a probe hit EOS early, or failed at its first step), another probe follows.
     */
    private final EngineListener probeListener = new EngineListener() {
        @Override
        public void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {}

        @Override
        public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
            if (breaker.getState() == CircuitBreaker.State.HALF_OPEN) {
                probe();
            }
        }

        @Override
        public void onError(Throwable error, RequestStats stats) {
            if (breaker.getState() == CircuitBreaker.State.HALF_OPEN) {
                probe();
            }
        }
    };
}
