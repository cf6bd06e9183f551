package io.nemotron.service.security;

import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.GenerateResponse;
import io.nemotron.api.v1.NemotronGrpc;
import java.io.ByteArrayInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;

/**
 * With {@code nemotron.security.log-content=true} only: logs each Nemotron call's request (prompts, tools,
 * documents) and, when it ends, its output text, on the logger {@value #LOGGER} at INFO. Nothing else in the
 * service logs prompt or output text, so without this interceptor they never reach the log.
 */
public final class ContentLogInterceptor implements ServerInterceptor, Ordered {
    public static final String LOGGER = "io.nemotron.service.content";
    private static final Logger log = LoggerFactory.getLogger(LOGGER);
    private static final TextFormat.Printer PRINTER = TextFormat.printer().escapingNonAscii(false);

    /** Inside {@link ApiKeyInterceptor}: refused calls are not logged, and the client's identity is known. */
    public static final int ORDER = ApiKeyInterceptor.ORDER + 10;

    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        if (!NemotronGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
            return next.startCall(call, headers);
        }
        String method = call.getMethodDescriptor().getBareMethodName();
        String client = ClientIdentity.current();
        StringBuilder output = new StringBuilder();
        ServerCall<Q, R> recording = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendMessage(R message) {
                append(output, message);
                super.sendMessage(message);
            }

            @Override
            public void close(Status status, Metadata trailers) {
                log.info("{} {} output ({}): {}", client, method, status.getCode(), output);
                super.close(status, trailers);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                next.startCall(recording, headers)) {
            @Override
            public void onMessage(Q message) {
                log.info("{} {} request: {}", client, method, render(call.getMethodDescriptor(), message));
                super.onMessage(message);
            }
        };
    }

    /** The request as protobuf text; {@code RequestGuard} hands the service raw bytes, parsed here for the log. */
    static String render(MethodDescriptor<?, ?> method, Object message) {
        if (message instanceof Message m) {
            return PRINTER.shortDebugString(m);
        }
        if (message instanceof byte[] bytes) {
            for (MethodDescriptor<?, ?> typed : NemotronGrpc.getServiceDescriptor().getMethods()) {
                if (typed.getFullMethodName().equals(method.getFullMethodName())) {
                    try {
                        return render(typed, typed.parseRequest(new ByteArrayInputStream(bytes)));
                    } catch (RuntimeException e) {
                        return "(" + bytes.length + " bytes, not a valid request)";
                    }
                }
            }
        }
        return String.valueOf(message);
    }

    /** Generated text as one string; tool calls and the final message in protobuf text. */
    private static void append(StringBuilder out, Object message) {
        switch (message) {
            case ChatResponse r when r.hasContent() -> out.append(r.getContent().getText());
            case ChatResponse r when r.hasReasoning() -> out.append(r.getReasoning().getText());
            case ChatResponse r when r.hasToolCall() -> out.append(" [tool_call ")
                    .append(PRINTER.shortDebugString(r.getToolCall())).append(']');
            case ChatResponse r when r.hasFinal() -> out.append(" [final ")
                    .append(PRINTER.shortDebugString(r.getFinal())).append(']');
            case GenerateResponse r when r.hasDelta() -> out.append(r.getDelta().getText());
            case GenerateResponse r when r.hasFinal() -> out.append(" [final ")
                    .append(PRINTER.shortDebugString(r.getFinal())).append(']');
            case Message m -> out.append(PRINTER.shortDebugString(m));
            default -> out.append(message);
        }
    }
}
