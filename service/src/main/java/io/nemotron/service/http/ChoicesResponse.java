package io.nemotron.service.http;

import io.nemotron.core.engine.RequestHandle;
import io.nemotron.core.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import tools.jackson.databind.node.ObjectNode;

/** What the streamed and the collected response of one request share: ids, the engine handles, the shapes. */
abstract class ChoicesResponse implements ChoiceSink {
    final OpenAiShapes.Api api;
    final String id;
    final long created;
    final String model;
    final int n;
    final Tokenizer tokenizer;
    final Duration retryAfter;
    private final List<RequestHandle> handles = new CopyOnWriteArrayList<>();
    private volatile boolean cancelled;

    ChoicesResponse(OpenAiShapes.Api api, String id, String model, int n, Tokenizer tokenizer, Duration retryAfter) {
        this.api = api;
        this.id = id;
        this.created = System.currentTimeMillis() / 1000;
        this.model = model;
        this.n = n;
        this.tokenizer = tokenizer;
        this.retryAfter = retryAfter;
    }

    /** Binds a submitted choice; cancels it at once when the response already ended (client gone, or an error). */
    void bind(RequestHandle h) {
        handles.add(h);
        if (cancelled) {
            h.cancel();
        }
    }

    /** Cancels every choice still running: their sequences leave the batch and free their KV blocks next step. */
    void cancelAll() {
        cancelled = true;
        handles.forEach(RequestHandle::cancel);
    }

    /** The envelope every response and chunk has. */
    ObjectNode envelope(String object) {
        ObjectNode root = OpenAiShapes.JSON.objectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        return root;
    }
}
