package io.nemotron.service.http;

import java.io.IOException;
import org.springframework.http.MediaType;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;

/**
 * Server-sent events over Spring MVC's {@link ResponseBodyEmitter}, written as given (each event already
 * {@code data: ...\n\n}) and flushed one by one. Content-Type text/event-stream; no timeout of its own: a stream
 * lasts as long as max_tokens says (0 means none to the servlet container).
 */
final class SseEvents implements EventStream {
    final ResponseBodyEmitter emitter = new Emitter();

    private static final class Emitter extends ResponseBodyEmitter {
        Emitter() {
            super(0L);
        }

        @Override
        protected void extendResponse(ServerHttpResponse outputMessage) {
            super.extendResponse(outputMessage);
            outputMessage.getHeaders().setContentType(MediaType.TEXT_EVENT_STREAM);
            outputMessage.getHeaders().setCacheControl("no-cache");
        }
    }

    @Override
    public void send(String event) throws IOException {
        emitter.send(event, MediaType.TEXT_EVENT_STREAM);
    }

    @Override
    public void complete() {
        emitter.complete();
    }

    @Override
    public void onGone(Runnable action) {
        emitter.onError(e -> action.run());
        emitter.onTimeout(action);
        emitter.onCompletion(action);
    }
}
