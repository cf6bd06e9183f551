package io.nemotron.service.admission;

import com.google.rpc.RetryInfo;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;

/**
 * Rejections that tell the client when to come back, in the two forms clients read: gRPC's retry pushback trailer
 * ({@code grpc-retry-pushback-ms}, honoured by grpc-java/-go/-core retry policies) and a {@code google.rpc.RetryInfo}
 * detail in {@code grpc-status-details-bin} (read by Google-style clients and by humans with grpcurl).
 */
public final class RetryHint {
    public static final Metadata.Key<String> PUSHBACK =
            Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER);

    private RetryHint() {}

    /** The status and trailers of a rejection with {@code code} (RESOURCE_EXHAUSTED or UNAVAILABLE). */
    public static Rejection reject(Status.Code code, String description, Duration retryAfter) {
        com.google.rpc.Status detail = com.google.rpc.Status.newBuilder()
                .setCode(code.value())
                .setMessage(description)
                .addDetails(com.google.protobuf.Any.pack(RetryInfo.newBuilder()
                        .setRetryDelay(com.google.protobuf.Duration.newBuilder()
                                .setSeconds(retryAfter.toSeconds()).setNanos(retryAfter.toNanosPart())).build()))
                .build();
        Metadata trailers = new Metadata();
        trailers.put(PUSHBACK, Long.toString(retryAfter.toMillis()));
        // StatusProto adds grpc-status-details-bin to the trailers and derives the Status from the detail
        var exception = StatusProto.toStatusRuntimeException(detail, trailers);
        return new Rejection(exception.getStatus(), exception.getTrailers());
    }

    /** A status with the trailers that go with it. */
    public record Rejection(Status status, Metadata trailers) {
        public io.grpc.StatusRuntimeException asException() {
            return status.asRuntimeException(trailers);
        }
    }
}
