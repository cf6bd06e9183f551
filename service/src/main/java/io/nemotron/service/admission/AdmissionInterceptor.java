package io.nemotron.service.admission;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.security.ClientIdentity;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Says no before any work is done, in this order: the server is draining or the engine's breaker is open
 * (UNAVAILABLE: another replica can serve the retry), the client is over its rate (RESOURCE_EXHAUSTED), too many
 * streams are open (RESOURCE_EXHAUSTED). Both rejections carry a retry hint. Only the {@code nemotron.v1.Nemotron}
 * service is admitted here: health and reflection must answer even under overload. Runs inside the authentication
 * interceptor, so a rate is charged to an authenticated client only.
 */
public final class AdmissionInterceptor implements ServerInterceptor {
    private final ModelHost host;
    private final EngineCircuitBreaker breaker;
    private final ClientRateLimiters rateLimiters;
    private final Bulkhead streams;
    private final ActiveStreams active;
    private final Duration retryAfter;

    public AdmissionInterceptor(ModelHost host, EngineCircuitBreaker breaker, ClientRateLimiters rateLimiters,
                                Bulkhead streams, ActiveStreams active, Duration retryAfter) {
        this.host = host;
        this.breaker = breaker;
        this.rateLimiters = rateLimiters;
        this.streams = streams;
        this.active = active;
        this.retryAfter = retryAfter;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        MethodDescriptor<Q, R> method = call.getMethodDescriptor();
        if (!NemotronGrpc.SERVICE_NAME.equals(method.getServiceName())) {
            return next.startCall(call, headers);
        }
        if (host.isDraining()) {
            return reject(call, RetryHint.reject(Status.Code.UNAVAILABLE, "the server is shutting down", retryAfter));
        }
        if (breaker.rejectsCalls()) {
            return reject(call, RetryHint.reject(Status.Code.UNAVAILABLE,
                    "the backend is failing (circuit breaker open); retry later", breaker.retryAfter()));
        }
        String client = ClientIdentity.current();
        Duration wait = rateLimiters.refusal(client);
        if (wait != null) {
            return reject(call, RetryHint.reject(Status.Code.RESOURCE_EXHAUSTED,
                    "rate limit: client " + client + " is over nemotron.admission.rate-limit", wait));
        }
        if (method.getType() != MethodDescriptor.MethodType.SERVER_STREAMING) {
            return next.startCall(call, headers);
        }
        if (!streams.tryAcquirePermission()) {
            return reject(call, RetryHint.reject(Status.Code.RESOURCE_EXHAUSTED, "too many concurrent streams ("
                    + streams.getBulkheadConfig().getMaxConcurrentCalls()
                    + ", nemotron.admission.max-concurrent-streams); retry later", retryAfter));
        }
        active.opened();
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (released.compareAndSet(false, true)) {
                streams.onComplete();
                active.closed();
            }
        };
        ServerCall<Q, R> tracked = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                try {
                    super.close(status, trailers);
                } finally {
                    release.run();
                }
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(tracked, headers);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
        // a client cancel (or a passed deadline) ends the call without close(): the permit returns here then
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } finally {
                    release.run();
                }
            }

            @Override
            public void onComplete() {
                try {
                    super.onComplete();
                } finally {
                    release.run();
                }
            }
        };
    }

    private static <Q, R> ServerCall.Listener<Q> reject(ServerCall<Q, R> call, RetryHint.Rejection rejection) {
        call.close(rejection.status(), rejection.trailers());
        return new ServerCall.Listener<>() {};
    }
}
