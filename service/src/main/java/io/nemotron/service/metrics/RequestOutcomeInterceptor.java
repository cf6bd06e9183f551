package io.nemotron.service.metrics;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts every RPC once, by method and final status code ({@code nemotron_requests_total}). It must be the outermost
 * interceptor (see {@code MetricsConfiguration}) so that statuses other interceptors produce themselves, such as
 * UNAUTHENTICATED from authentication or RESOURCE_EXHAUSTED from admission, are counted too.
 * <p>
 * A call ends in one of three ways, and the first one seen is counted: the server closes it (any status), the
 * client cancels or its deadline passes ({@code onCancel}), or a handler throws past every interceptor (grpc-java then
 * closes the stream itself, below this wrapper).
 */
public final class RequestOutcomeInterceptor implements ServerInterceptor {
    static final String NAME = "nemotron.requests";

    private final MeterRegistry registry;

    /** @param services their methods get an OK series at zero now, so the family exists before the first call */
    public RequestOutcomeInterceptor(MeterRegistry registry, ServiceDescriptor... services) {
        this.registry = registry;
        for (ServiceDescriptor service : services) {
            for (MethodDescriptor<?, ?> method : service.getMethods()) {
                counter(method, Status.Code.OK);
            }
        }
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        Outcome outcome = new Outcome(call.getMethodDescriptor());
        ServerCall<Q, R> counted = new SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                outcome.record(status.getCode());
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(counted, headers);
        } catch (RuntimeException | Error e) {
            outcome.record(Status.fromThrowable(e).getCode());
            throw e;
        }
        return new SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                try {
                    super.onMessage(message);
                } catch (RuntimeException | Error e) {
                    outcome.record(Status.fromThrowable(e).getCode());
                    throw e;
                }
            }

            @Override
            public void onHalfClose() {
                try {
                    super.onHalfClose();
                } catch (RuntimeException | Error e) {
                    outcome.record(Status.fromThrowable(e).getCode());
                    throw e;
                }
            }

            @Override
            public void onCancel() {
                // the call's context says why: DEADLINE_EXCEEDED when its deadline passed, else CANCELLED
                Status why = Contexts.statusFromCancelled(Context.current());
                outcome.record(why == null ? Status.Code.CANCELLED : why.getCode());
                super.onCancel();
            }
        };
    }

    private Counter counter(MethodDescriptor<?, ?> method, Status.Code code) {
        return Counter.builder(NAME)
                .description("RPCs by method and final gRPC status code")
                .tag("service", String.valueOf(method.getServiceName()))
                .tag("method", String.valueOf(method.getBareMethodName()))
                .tag("code", code.name())
                .register(registry);
    }

    /** One call's outcome: counted once, whichever way it ends first. */
    private final class Outcome {
        private final MethodDescriptor<?, ?> method;
        private final AtomicBoolean counted = new AtomicBoolean();

        Outcome(MethodDescriptor<?, ?> method) {
            this.method = method;
        }

        void record(Status.Code code) {
            if (counted.compareAndSet(false, true)) {
                counter(method, code).increment();
            }
        }
    }
}
