package io.nemotron.service.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.service.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Health follows the model's warm-up; reflection lists the service. */
class HealthAndReflectionTest {

    @Test
    void notServingUntilTheWarmUpGenerationRanThenServing() {
        try (TestServer server = TestServer.inProcess(false)) {
            var health = HealthGrpc.newBlockingStub(server.channel);
            for (String service : List.of("", NemotronGrpc.SERVICE_NAME)) {
                assertThat(health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus())
                        .isEqualTo(ServingStatus.NOT_SERVING);
            }
            // the warm-up request is queued in the engine, held by the gate
            await().atMost(Duration.ofSeconds(10)).until(() -> server.engine() != null && !server.engine().handles.isEmpty());
            assertThatThrownBy(() -> NemotronGrpc.newBlockingStub(server.channel)
                    .getModelInfo(GetModelInfoRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.getStatus().getDescription()).contains("loading");
                        // come back later: the configured retry hint (nemotron.admission.retry-after, 1 s)
                        assertThat(e.getTrailers().get(io.nemotron.service.admission.RetryHint.PUSHBACK)).isEqualTo("1000");
                    });

            server.openGate();
            await().atMost(Duration.ofSeconds(10)).until(() -> health.check(HealthCheckRequest.newBuilder()
                    .setService(NemotronGrpc.SERVICE_NAME).build()).getStatus() == ServingStatus.SERVING);
            assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
            assertThat(server.engine().handles.getFirst().requestId()).isEqualTo("warmup");
        }
    }

    @Test
    void reflectionListsTheService() throws Exception {
        try (TestServer server = TestServer.inProcess(true)) {
            CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
            var requests = ServerReflectionGrpc.newStub(server.channel).serverReflectionInfo(new StreamObserver<>() {
                @Override
                public void onNext(ServerReflectionResponse value) {
                    answer.complete(value);
                }

                @Override
                public void onError(Throwable t) {
                    answer.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {}
            });
            requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
            var services = answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
                    .map(s -> s.getName()).toList();
            requests.onCompleted();
            assertThat(services).contains(NemotronGrpc.SERVICE_NAME, HealthGrpc.SERVICE_NAME);
        }
    }
}
