package io.nemotron.service.http;

import java.io.IOException;

/** Where a streamed response's server-sent events go: the HTTP response ({@link SseEvents}), or a test's list. */
interface EventStream {
    /** One whole event ({@code data: ...\n\n}); throws when the client is gone. */
    void send(String event) throws IOException;

    /** The response ends. */
    void complete();

    /** Runs {@code action} when the response ends for any reason: the client left, a timeout, or completion. */
    void onGone(Runnable action);
}
