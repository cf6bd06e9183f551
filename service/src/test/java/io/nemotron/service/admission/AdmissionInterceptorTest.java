package io.nemotron.service.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.rpc.RetryInfo;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GenerateResponse;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.TokenIds;
import io.nemotron.api.v1.TokenizeRequest;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.TestServer;
import java.time.Duration;
import java.util.Iterator;
import org.junit.jupiter.api.Test;

/** Admission decisions through the real Spring wiring and interceptor chain, on the fake engine (in-process). */
class AdmissionInterceptorTest {

    @Test
    void aClientOverItsRateIsRefusedWithARetryHintWhileHealthStaysOpen() {
        try (TestServer server = TestServer.inProcess(true, "--nemotron.admission.rate-limit.requests-per-period=2",
                "--nemotron.admission.rate-limit.period=1h")) {
            ready(server);
            var stub = NemotronGrpc.newBlockingStub(server.channel);
            TokenizeRequest hi = TokenizeRequest.newBuilder().setText("hi").build();
            stub.tokenize(hi);
            stub.tokenize(hi);
            assertThatThrownBy(() -> stub.tokenize(hi)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                assertThat(e.getStatus().getDescription()).contains("rate limit");
                // the allowance refills within the hour-long period, and not at once
                long pushback = Long.parseLong(e.getTrailers().get(RetryHint.PUSHBACK));
                assertThat(pushback).isBetween(Duration.ofMinutes(59).toMillis(), Duration.ofHours(1).toMillis());
            });
            var health = HealthGrpc.newBlockingStub(server.channel);
            assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
        }
    }

    @Test
    void eachApiKeyHasItsOwnAllowanceAndUnauthenticatedCallsAreNotCharged() {
        try (TestServer server = TestServer.inProcess(true, "--nemotron.security.api-keys=alpha-key-1,beta-key-2",
                "--nemotron.admission.rate-limit.requests-per-period=1", "--nemotron.admission.rate-limit.period=1h")) {
            ready(server);
            var anonymous = NemotronGrpc.newBlockingStub(server.channel);
            var alpha = anonymous.withInterceptors(bearer("alpha-key-1"));
            var beta = anonymous.withInterceptors(bearer("beta-key-2"));
            TokenizeRequest hi = TokenizeRequest.newBuilder().setText("hi").build();
            for (int i = 0; i < 3; i++) {   // refused by authentication, before admission: no allowance used
                assertThatThrownBy(() -> anonymous.tokenize(hi)).isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
            }
            alpha.tokenize(hi);
            assertThatThrownBy(() -> alpha.tokenize(hi)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                // the key's identity (first 8 hex digits of its SHA-256), never the key
                assertThat(e.getStatus().getDescription()).contains("client key-").doesNotContain("alpha-key-1");
            });
            beta.tokenize(hi);
        }
    }

    private static io.grpc.ClientInterceptor bearer(String key) {
        io.grpc.Metadata headers = new io.grpc.Metadata();
        headers.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
        return io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers);
    }

    @Test
    void aFullEngineQueueIsResourceExhaustedWithRetryInfo() {
        try (TestServer server = TestServer.inProcess(true, "--nemotron.admission.retry-after=1500ms")) {
            ready(server);
            server.engine().overloaded = true;
            var stub = NemotronGrpc.newBlockingStub(server.channel);
            assertThatThrownBy(() -> stub.generate(request(4)).forEachRemaining(r -> { }))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(e.getStatus().getDescription()).contains("waiting queue is full");
                        assertThat(e.getTrailers().get(RetryHint.PUSHBACK)).isEqualTo("1500");
                        com.google.rpc.Status detail = StatusProto.fromThrowable(e);
                        assertThat(detail).isNotNull();
                        assertThat(detail.getDetailsList()).singleElement().satisfies(any -> {
                            RetryInfo info = any.unpack(RetryInfo.class);
                            assertThat(info.getRetryDelay().getSeconds()).isEqualTo(1);
                            assertThat(info.getRetryDelay().getNanos()).isEqualTo(500_000_000);
                        });
                    });
        }
    }

    @Test
    void streamsOverTheCapAreRefusedAndACancelledStreamFreesItsPermit() throws Exception {
        try (TestServer server = TestServer.inProcess(true, "--nemotron.admission.max-concurrent-streams=2")) {
            ready(server);
            server.engine().tokenDelayMs = 20;   // 500 tokens: ten seconds, far longer than the test
            var stub = NemotronGrpc.newBlockingStub(server.channel);
            Context.CancellableContext first = Context.current().withCancellation();
            Iterator<GenerateResponse> a = first.call(() -> stub.generate(request(500)));
            Iterator<GenerateResponse> b = stub.generate(request(500));
            a.next();
            b.next();
            ActiveStreams active = server.context.getBean(ActiveStreams.class);
            assertThat(active.open()).isEqualTo(2);

            assertThatThrownBy(() -> stub.generate(request(4)).forEachRemaining(r -> { }))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(e.getStatus().getDescription()).contains("too many concurrent streams (2");
                        assertThat(e.getTrailers().get(RetryHint.PUSHBACK)).isEqualTo("1000");
                    });
            // unary calls do not take a stream permit
            stub.tokenize(TokenizeRequest.newBuilder().setText("hi").build());

            first.cancel(null);
            await().atMost(Duration.ofSeconds(5)).until(() -> active.open() == 1);
            int[] n = {0};
            stub.generate(request(4)).forEachRemaining(r -> n[0]++);
            assertThat(n[0]).isEqualTo(4 + 1);
        }
    }

    @Test
    void drainingTurnsHealthNotServingAndRefusesNewCalls() {
        try (TestServer server = TestServer.inProcess(true)) {
            ready(server);
            server.context.getBean(ModelHost.class).beginDrain();
            var health = HealthGrpc.newBlockingStub(server.channel);
            assertThat(health.check(HealthCheckRequest.newBuilder().setService(NemotronGrpc.SERVICE_NAME).build())
                    .getStatus()).isEqualTo(ServingStatus.NOT_SERVING);
            assertThatThrownBy(() -> NemotronGrpc.newBlockingStub(server.channel).generate(request(4)).next())
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.getStatus().getDescription()).contains("shutting down");
                    });
        }
    }

    private static void ready(TestServer server) {
        server.context.getBean(ModelHost.class).loaded().join();
    }

    private static GenerateRequest request(int maxTokens) {
        return GenerateRequest.newBuilder()
                .setTokenIds(TokenIds.newBuilder().addIds(1).addIds(2).addIds(3))
                .setMaxTokens(maxTokens)
                .build();
    }
}
