package io.nemotron.service.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.TokenIds;
import io.nemotron.core.engine.EngineSnapshot;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.GenerateStreams;
import io.nemotron.service.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Must-show 2 of issue 5, over a real loopback connection with the real engine and the demo model: four times more
 * concurrent streams than admitted. The excess are refused with RESOURCE_EXHAUSTED and a retry hint within 100 ms,
 * the admitted ones run to their full length, nothing else goes wrong, and the block pool is all free afterwards.
 */
class OverloadIT {
    private static final int ADMITTED = 4;
    private static final int STREAMS = 4 * ADMITTED;
    private static final int MAX_TOKENS = 256;

    @TempDir
    Path tmp;

    record Outcome(Status status, Metadata trailers, int tokens, long millis) {}

    @Test
    void excessStreamsAreRefusedAtOnceAndAdmittedOnesComplete() throws Exception {
        try (TestServer server = TestServer.loopbackRealEngine(Files.createDirectories(tmp.resolve("cache")),
                "--nemotron.admission.max-concurrent-streams=" + ADMITTED,
                // one compute thread: on this 2-core machine the other core is the transport's, as on a GPU host
                "--nemotron.model.threads=1", "--nemotron.admission.retry-after=2s")) {
            ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port,
                    InsecureChannelCredentials.create()).build();
            try {
                var stub = NemotronGrpc.newStub(channel);
                // connect first: the 100 ms are the server's answer, not the TCP and HTTP/2 handshakes
                NemotronGrpc.newBlockingStub(channel).getModelInfo(GetModelInfoRequest.getDefaultInstance());
                List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
                for (int i = 0; i < STREAMS; i++) {
                    outcomes.add(start(stub, i));
                }
                List<Outcome> done = new ArrayList<>();
                for (CompletableFuture<Outcome> f : outcomes) {
                    done.add(f.get(3, TimeUnit.MINUTES));
                }

                List<Outcome> ok = done.stream().filter(o -> o.status().isOk()).toList();
                List<Outcome> refused = done.stream()
                        .filter(o -> o.status().getCode() == Status.Code.RESOURCE_EXHAUSTED).toList();
                assertThat(ok).hasSize(ADMITTED).allSatisfy(o -> assertThat(o.tokens()).isEqualTo(MAX_TOKENS));
                System.out.println("refusal times (ms): " + refused.stream().map(Outcome::millis).toList());
                assertThat(refused).hasSize(STREAMS - ADMITTED).allSatisfy(o -> {
                    assertThat(o.millis()).isLessThan(100);
                    assertThat(o.status().getDescription()).contains("max-concurrent-streams");
                    assertThat(o.trailers().get(RetryHint.PUSHBACK)).isEqualTo("2000");
                    assertThat(o.tokens()).isZero();
                });
                // no other outcome: every stream is one of the two
                assertThat(ok.size() + refused.size()).isEqualTo(STREAMS);

                ModelHost host = server.context.getBean(ModelHost.class);
                ActiveStreams active = server.context.getBean(ActiveStreams.class);
                // the admission permit is released just after the trailers go out: wait for both, briefly
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    EngineSnapshot s = host.ready().engine().snapshot();
                    return s.running() == 0 && s.waiting() == 0 && s.freeBlocks() == s.totalBlocks()
                            && active.open() == 0;
                });
            } finally {
                channel.shutdownNow();
            }
        }
    }

    private static CompletableFuture<Outcome> start(NemotronGrpc.NemotronStub stub, int i) {
        long t0 = System.nanoTime();
        GenerateRequest request = GenerateRequest.newBuilder()
                .setTokenIds(TokenIds.newBuilder().addIds(1).addIds(100 + i).addIds(200 + i))
                .setMaxTokens(MAX_TOKENS)
                .setIgnoreEos(true)
                .setRequestId("overload-" + i)
                .build();
        return GenerateStreams.start(stub, request, new AtomicInteger()).thenApply(o -> new Outcome(o.status(),
                o.trailers(), o.tokens(), (o.endNanos() - t0) / 1_000_000));
    }
}
