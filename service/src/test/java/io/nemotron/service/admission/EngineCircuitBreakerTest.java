package io.nemotron.service.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GenerateResponse;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.TokenIds;
import io.nemotron.core.engine.Engine;
import io.nemotron.core.engine.EngineSnapshot;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.model.Transformer;
import io.nemotron.service.NemotronServer;
import io.nemotron.service.engine.EngineFactory;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.FaultInjectingBackend;
import io.nemotron.service.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

/**
 * Must-show 3 of issue 5: the real engine over stories260K on a backend that fails on demand. Failing steps open the
 * breaker; health flips to NOT_SERVING; calls fail fast with UNAVAILABLE and a retry hint; once the backend works
 * again the half-open probe closes the breaker and health returns to SERVING.
 */
class EngineCircuitBreakerTest {
    private ConfigurableApplicationContext context;
    private ManagedChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (context != null) {
            context.close();
        }
    }

    @Test
    void breakerOpensOnFailingStepsFailsFastAndRecoversWithTheBackend() throws Exception {
        start();
        var health = HealthGrpc.newBlockingStub(channel);
        var stub = NemotronGrpc.newBlockingStub(channel);
        FaultInjectingBackend backend = FaultyEngineBeans.backend.get();
        EngineCircuitBreaker breaker = context.getBean(EngineCircuitBreaker.class);

        assertThat(collect(stub.generate(request(8)))).hasSize(8 + 1); // 8 tokens and the final message
        assertThat(status(health)).isEqualTo(ServingStatus.SERVING);

        backend.failing = true;
        // each request fails at its first step; the window needs 5 calls at >= 50 % failures
        for (int i = 0; i < 5; i++) {
            assertThatThrownBy(() -> collect(stub.generate(request(8))))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isIn(Status.Code.INTERNAL, Status.Code.UNAVAILABLE));
        }
        await().atMost(Duration.ofSeconds(5)).until(breaker::rejectsCalls);
        assertThat(status(health)).isEqualTo(ServingStatus.NOT_SERVING);

        // fail fast: rejected before the engine sees the request, with the retry hint
        int failuresBefore = backend.failures.get();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> collect(stub.generate(request(8))))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("circuit breaker open");
                    assertThat(e.getTrailers().get(RetryHint.PUSHBACK)).isEqualTo("1500");
                });
        // the engine never saw it (no step ran, so the failing backend was not called), and it was quick; the bound
        // is loose because this is the rejection path's first, JIT-cold run on a possibly busy machine
        assertThat(backend.failures.get()).isEqualTo(failuresBefore);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(500));

        // still broken when half-open: the probe fails and the breaker opens again
        await().atMost(Duration.ofSeconds(10)).until(() -> breaker.probes() >= 1 && breaker.rejectsCalls()
                && backend.failures.get() > failuresBefore);
        assertThat(status(health)).isEqualTo(ServingStatus.NOT_SERVING);

        backend.failing = false;
        await().atMost(Duration.ofSeconds(10)).until(() -> status(health) == ServingStatus.SERVING);
        assertThat(breaker.state()).isEqualTo(io.github.resilience4j.circuitbreaker.CircuitBreaker.State.CLOSED);
        assertThat(collect(stub.generate(request(8)))).hasSize(8 + 1);

        EngineSnapshot s = context.getBean(ModelHost.class).ready().engine().snapshot();
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            EngineSnapshot now = context.getBean(ModelHost.class).ready().engine().snapshot();
            return now.freeBlocks() == now.totalBlocks() && now.running() == 0 && now.waiting() == 0;
        });
        assertThat(s.totalBlocks()).isPositive();
    }

    private static ServingStatus status(HealthGrpc.HealthBlockingStub health) {
        return health.check(HealthCheckRequest.newBuilder().setService(NemotronGrpc.SERVICE_NAME).build()).getStatus();
    }

    private static GenerateRequest request(int maxTokens) {
        return GenerateRequest.newBuilder()
                .setTokenIds(TokenIds.newBuilder().addAllIds(List.of(1, 403, 407)))
                .setMaxTokens(maxTokens)
                .setIgnoreEos(true)
                .build();
    }

    private static List<GenerateResponse> collect(Iterator<GenerateResponse> it) {
        List<GenerateResponse> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    private void start() throws Exception {
        String name = "breaker-test-" + UUID.randomUUID();
        context = new SpringApplicationBuilder(NemotronServer.class, FaultyEngineBeans.class).run(
                "--nemotron.model.path=" + TestServer.stories260k(), "--nemotron.model.threads=1",
                "--spring.grpc.server.inprocess.name=" + name, "--spring.grpc.server.port=0",
                "--spring.grpc.server.host=127.0.0.1", "--management.server.port=0", "--server.port=0",
                "--nemotron.admission.breaker.minimum-number-of-calls=5",
                "--nemotron.admission.breaker.sliding-window-size=10",
                // long enough that the fail-fast call above cannot land in the half-open window on a slow machine
                "--nemotron.admission.breaker.wait-duration-in-open-state=1500ms",
                "--nemotron.admission.breaker.permitted-calls-in-half-open=2");
        context.getBean(ModelHost.class).loaded().get(1, TimeUnit.MINUTES);
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    /** The production Engine over the real model, whose forward pass runs on a fault-injecting backend. */
    static class FaultyEngineBeans {
        static final AtomicReference<FaultInjectingBackend> backend = new AtomicReference<>();

        @Bean
        @Primary
        EngineFactory faultyEngineFactory() {
            return (LoadedModel model, io.nemotron.core.engine.EngineConfig config) -> {
                FaultInjectingBackend faulty = new FaultInjectingBackend(model.backend());
                backend.set(faulty);
                return new Engine(new Transformer(model.config(), model.transformer().weights(), faulty),
                        model.tokenizer(), config);
            };
        }
    }
}
