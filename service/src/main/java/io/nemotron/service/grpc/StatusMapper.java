package io.nemotron.service.grpc;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.nemotron.core.chat.PromptException;
import io.nemotron.core.engine.EngineClosedException;
import io.nemotron.core.engine.EngineOverloadedException;
import io.nemotron.core.engine.InvalidRequestException;
import io.nemotron.service.admission.AdmissionProperties;
import io.nemotron.service.admission.RetryHint;
import io.nemotron.service.engine.ModelNotReadyException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.grpc.server.exception.GrpcExceptionHandler;
import org.springframework.stereotype.Component;

/**
 * The one exception-to-status mapping: Spring gRPC applies it to what RPC methods throw, and the streaming calls
 * use {@link #toStatus} for errors that arrive later from the engine. INTERNAL is for bugs only, so it is logged: a
 * bare IllegalArgumentException is one (only an {@link InvalidRequestException} is the client's fault).
 */
@Component
public class StatusMapper implements GrpcExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(StatusMapper.class);

    private final Duration retryAfter;

    public StatusMapper(AdmissionProperties admission) {
        this.retryAfter = admission.retryAfter();
    }

    @Override
    public StatusException handleException(Throwable exception) {
        Status status = toStatus(exception);
        if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED || status.getCode() == Status.Code.UNAVAILABLE) {
            // every "come back later" answer carries the same retry hint as the admission interceptor's rejections
            RetryHint.Rejection r = RetryHint.reject(status.getCode(), status.getDescription(), retryAfter);
            return r.status().asException(r.trailers());
        }
        return status.asException();
    }

    public static Status toStatus(Throwable e) {
        return switch (e) {
            case StatusRuntimeException s -> s.getStatus();
            case StatusException s -> s.getStatus();
            // validation, SamplingParams.validate(), ChatRequestException: messages start with the field's name
            case InvalidRequestException bad -> Status.INVALID_ARGUMENT.withDescription(bad.getMessage());
            // the chat template refused the conversation (e.g. roles out of order): the request's fault
            case PromptException pe -> Status.INVALID_ARGUMENT.withDescription("messages: " + pe.getMessage());
            case EngineOverloadedException o -> Status.RESOURCE_EXHAUSTED.withDescription(o.getMessage());
            case ModelNotReadyException n -> Status.UNAVAILABLE.withDescription(n.getMessage());
            // the engine shut down (draining) or its loop died: another replica can serve the retry
            case EngineClosedException c -> Status.UNAVAILABLE.withDescription(c.getMessage());
            default -> {
                log.error("internal error serving a request", e);
                yield Status.INTERNAL.withDescription(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        };
    }
}
