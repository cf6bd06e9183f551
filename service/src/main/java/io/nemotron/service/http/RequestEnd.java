package io.nemotron.service.http;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs an action once when a request's response has ended: at once for a synchronous one, or when its async
 * processing completes, fails or times out. Spring MVC may start async processing twice (the deferred result, then
 * the SSE emitter), and the servlet container drops listeners at each start, so the listener re-registers itself.
 */
final class RequestEnd implements AsyncListener {
    private final Runnable action;
    private final AtomicBoolean done = new AtomicBoolean();

    private RequestEnd(Runnable action) {
        this.action = action;
    }

    interface Body {
        void run() throws IOException, ServletException;
    }

    static void whenDone(HttpServletRequest request, Runnable action, Body body) throws IOException, ServletException {
        RequestEnd end = new RequestEnd(action);
        try {
            body.run();
        } finally {
            if (request.isAsyncStarted()) {
                request.getAsyncContext().addListener(end);
            } else {
                end.run();
            }
        }
    }

    private void run() {
        if (done.compareAndSet(false, true)) {
            action.run();
        }
    }

    @Override
    public void onComplete(AsyncEvent event) {
        run();
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        run();
    }

    @Override
    public void onError(AsyncEvent event) {
        run();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        event.getAsyncContext().addListener(this);
    }
}
