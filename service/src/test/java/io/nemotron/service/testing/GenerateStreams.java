package io.nemotron.service.testing;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GenerateResponse;
import io.nemotron.api.v1.NemotronGrpc;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** Streaming Generate calls whose outcome (status, trailers, tokens, end time) the overload and drain tests check. */
public final class GenerateStreams {
    private GenerateStreams() {}

    /** How a stream ended; {@code endNanos} is {@link System#nanoTime()} at its end. */
    public record Outcome(Status status, Metadata trailers, int tokens, long endNanos) {}

    /** Starts the call; {@code tokens} counts the generated ids as they arrive. */
    public static CompletableFuture<Outcome> start(NemotronGrpc.NemotronStub stub, GenerateRequest request,
                                                   AtomicInteger tokens) {
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        stub.generate(request, new StreamObserver<>() {
            @Override
            public void onNext(GenerateResponse value) {
                if (value.hasDelta()) {
                    tokens.addAndGet(value.getDelta().getTokenIdsCount());
                }
            }

            @Override
            public void onError(Throwable t) {
                result.complete(new Outcome(Status.fromThrowable(t), Status.trailersFromThrowable(t), tokens.get(),
                        System.nanoTime()));
            }

            @Override
            public void onCompleted() {
                result.complete(new Outcome(Status.OK, new Metadata(), tokens.get(), System.nanoTime()));
            }
        });
        return result;
    }
}
