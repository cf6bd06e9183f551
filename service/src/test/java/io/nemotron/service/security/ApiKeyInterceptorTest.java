package io.nemotron.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.ModelInfo;
import io.nemotron.api.v1.NemotronGrpc;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The interceptor over an in-process server whose GetModelInfo answers with {@link ClientIdentity#current()}. */
class ApiKeyInterceptorTest {
    private static final String KEY = "alpha-key-0123456789";   // sha256 c0dcc758...
    private final AtomicInteger served = new AtomicInteger();
    private Server server;
    private ManagedChannel channel;

    private void start(List<String> keys, Set<String> open) throws Exception {
        var interceptor = new ApiKeyInterceptor(ApiKeys.of(keys), open);
        var identityEcho = new NemotronGrpc.NemotronImplBase() {
            @Override
            public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> observer) {
                served.incrementAndGet();
                observer.onNext(ModelInfo.newBuilder().setName(ClientIdentity.current()).build());
                observer.onCompleted();
            }
        };
        String name = "auth-" + UUID.randomUUID();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(ServerInterceptors.intercept(identityEcho, interceptor))
                .addService(ServerInterceptors.intercept(new HealthStatusManager().getHealthService(), interceptor))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    private static <S extends AbstractStub<S>> S withAuthorization(S stub, String value) {
        Metadata headers = new Metadata();
        headers.put(ApiKeyInterceptor.AUTHORIZATION, value);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private String identity(NemotronGrpc.NemotronBlockingStub stub) {
        return stub.getModelInfo(GetModelInfoRequest.getDefaultInstance()).getName();
    }

    private static void assertUnauthenticated(Runnable call, String description) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(e.getStatus().getDescription()).isEqualTo(description);
            assertThat(e.getTrailers().get(Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER)))
                    .isEqualTo("Bearer");
        });
    }

    @Test
    void theRightKeyPassesWithItsIdentityAndAnythingElseIsUnauthenticatedBeforeTheService() throws Exception {
        start(List.of(KEY, "beta-key-9876543210"), Set.of(HealthGrpc.SERVICE_NAME));
        var stub = NemotronGrpc.newBlockingStub(channel);

        assertUnauthenticated(() -> identity(stub), "missing authorization: Bearer <key> metadata");
        assertUnauthenticated(() -> identity(withAuthorization(stub, KEY)), "missing authorization: Bearer <key> metadata");
        assertUnauthenticated(() -> identity(withAuthorization(stub, "Basic " + KEY)),
                "missing authorization: Bearer <key> metadata");
        assertUnauthenticated(() -> identity(withAuthorization(stub, "Bearer wrong-key-0123456789")), "invalid API key");
        assertUnauthenticated(() -> identity(withAuthorization(stub, "Bearer " + KEY + "x")), "invalid API key");
        assertThat(served).hasValue(0);

        assertThat(identity(withAuthorization(stub, "Bearer " + KEY))).isEqualTo("key-c0dcc758");
        assertThat(identity(withAuthorization(stub, "bearer beta-key-9876543210"))).isEqualTo("key-99e3dfef");
        assertThat(served).hasValue(2);
    }

    @Test
    void openServicesNeedNoKey() throws Exception {
        start(List.of(KEY), Set.of(HealthGrpc.SERVICE_NAME));
        var health = HealthGrpc.newBlockingStub(channel);
        assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
        // a wrong key on an open service is ignored, not refused: probes may carry a stale header
        assertThat(withAuthorization(health, "Bearer stale").check(HealthCheckRequest.getDefaultInstance())
                .getStatus()).isEqualTo(ServingStatus.SERVING);
    }

    @Test
    void withoutOpenServicesHealthNeedsAKeyToo() throws Exception {
        start(List.of(KEY), Set.of());
        var health = HealthGrpc.newBlockingStub(channel);
        assertUnauthenticated(() -> health.check(HealthCheckRequest.getDefaultInstance()),
                "missing authorization: Bearer <key> metadata");
        assertThat(withAuthorization(health, "Bearer " + KEY).check(HealthCheckRequest.getDefaultInstance())
                .getStatus()).isEqualTo(ServingStatus.SERVING);
    }

    @Test
    void withoutKeysEveryCallIsAnonymous() throws Exception {
        start(List.of(), Set.of());
        var stub = NemotronGrpc.newBlockingStub(channel);
        assertThat(identity(stub)).isEqualTo(ClientIdentity.ANONYMOUS);
        assertThat(identity(withAuthorization(stub, "Bearer anything"))).isEqualTo(ClientIdentity.ANONYMOUS);
    }
}
