package io.nemotron.service.http;

import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.nemotron.core.chat.PromptException;
import io.nemotron.core.engine.EngineClosedException;
import io.nemotron.core.engine.EngineOverloadedException;
import io.nemotron.core.engine.InvalidRequestException;
import io.nemotron.service.engine.ModelNotReadyException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import tools.jackson.databind.node.ObjectNode;

/**
 * An error in OpenAI's shape, {@code {"error": {"message", "type", "param", "code"}}}, with its HTTP status and,
 * for "come back later" answers (429, 503), a {@code Retry-After}. The one exception-to-status mapping of the HTTP
 * API, as {@link io.nemotron.service.grpc.StatusMapper} is gRPC's: 500 is for bugs only, so it is logged.
 */
record ApiError(HttpStatus status, String type, String param, String code, String message, Duration retryAfter) {
    private static final Logger log = LoggerFactory.getLogger(ApiError.class);

    static ApiError of(Throwable e, Duration retryAfter) {
        return switch (e) {
            case InvalidRequestException bad -> invalid(bad.field(), bad.getMessage());
            // the body could not be read: over the size limit, or cut off by the client
            case HttpMessageNotReadableException unreadable -> unreadable.getCause() instanceof
                    BodySizeFilter.BodyTooLargeException big ? invalid("body", big.getMessage())
                    : invalid("body", "body: could not be read (" + unreadable.getMostSpecificCause().getMessage() + ")");
            case PromptException pe -> invalid("messages", "messages: " + pe.getMessage());
            case EngineOverloadedException o -> new ApiError(HttpStatus.TOO_MANY_REQUESTS, "rate_limit_error", null,
                    "engine_overloaded", o.getMessage(), retryAfter);
            case ModelNotReadyException n -> unavailable(n.getMessage(), retryAfter);
            case EngineClosedException c -> unavailable(c.getMessage(), retryAfter);
            // a gRPC status from shared code (the request guard): its code says whose fault it is
            case StatusRuntimeException s when s.getStatus().getCode() == io.grpc.Status.Code.INVALID_ARGUMENT ->
                    invalid(null, s.getStatus().getDescription());
            case StatusException s when s.getStatus().getCode() == io.grpc.Status.Code.INVALID_ARGUMENT ->
                    invalid(null, s.getStatus().getDescription());
            default -> {
                log.error("internal error serving an HTTP request", e);
                yield new ApiError(HttpStatus.INTERNAL_SERVER_ERROR, "server_error", null, "internal_error",
                        e.getClass().getSimpleName() + ": " + e.getMessage(), null);
            }
        };
    }

    /** A client error of {@code status} about no parameter in particular (an unknown route, a wrong method). */
    static ApiError of(HttpStatus status, String code, String message) {
        return new ApiError(status, "invalid_request_error", null, code, message, null);
    }

    static ApiError invalid(String param, String message) {
        return new ApiError(HttpStatus.BAD_REQUEST, "invalid_request_error", param, "invalid_value", message, null);
    }

    static ApiError unavailable(String message, Duration retryAfter) {
        return new ApiError(HttpStatus.SERVICE_UNAVAILABLE, "service_unavailable", null, "service_unavailable",
                message, retryAfter);
    }

    static ApiError tooManyRequests(String code, String message, Duration retryAfter) {
        return new ApiError(HttpStatus.TOO_MANY_REQUESTS, "rate_limit_error", null, code, message, retryAfter);
    }

    static ApiError unauthorized(String message) {
        return new ApiError(HttpStatus.UNAUTHORIZED, "authentication_error", null, "invalid_api_key", message, null);
    }

    ObjectNode body() {
        ObjectNode root = OpenAiShapes.JSON.objectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }

    String json() {
        return JsonFields.MAPPER.writeValueAsString(body());
    }

    /** Whole seconds, rounded up: Retry-After has no fractions, and 0 would invite an immediate retry. */
    String retryAfterSeconds() {
        return Long.toString(Math.max(1, (retryAfter.toMillis() + 999) / 1000));
    }

    ResponseEntity<String> response() {
        ResponseEntity.BodyBuilder b = ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON);
        if (retryAfter != null) {
            b.header(HttpHeaders.RETRY_AFTER, retryAfterSeconds());
        }
        if (status == HttpStatus.UNAUTHORIZED) {
            b.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        }
        return b.body(json());
    }
}
