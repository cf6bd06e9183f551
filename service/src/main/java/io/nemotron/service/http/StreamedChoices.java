package io.nemotron.service.http;

import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.tokenizer.Tokenizer;
import io.nemotron.service.rag.RagContext;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A streamed response: server-sent events {@code data: {chunk}\n\n}, ended by {@code data: [DONE]}. Each choice's
 * first chunk carries the assistant role; its last one the finish reason; with {@code include_usage} every chunk
 * has {@code "usage": null} and one more chunk without choices carries the usage, as OpenAI's API does.
 * <p>
 * A write that fails means the client went away: every choice is cancelled then, so its KV blocks return at the
 * next step. An engine error after the first byte can no longer change the HTTP status: it goes out as an
 * {@code data: {"error": ...}} event before the stream ends (vLLM and OpenAI's SDKs read it so).
 */
final class StreamedChoices extends ChoicesResponse {
    final EventStream events;
    private final boolean includeUsage;
    private final boolean logprobs;
    private final RagContext rag;
    private final boolean[] started;
    private final int[] textOffsets;
    private final RequestStats[] stats;
    private int open;
    private boolean ended;

    StreamedChoices(OpenAiShapes.Api api, String id, String model, int n, Tokenizer tokenizer, Duration retryAfter,
                    boolean includeUsage, boolean logprobs, RagContext rag, EventStream events) {
        super(api, id, model, n, tokenizer, retryAfter);
        this.events = events;
        this.includeUsage = includeUsage;
        this.logprobs = logprobs;
        this.rag = rag;
        this.started = new boolean[n];
        this.textOffsets = new int[n];
        this.stats = new RequestStats[n];
        this.open = n;
        events.onGone(this::cancelAll);
    }

    @Override
    public synchronized void content(int index, String text, List<SampledLogprobs> lp) {
        if (api == OpenAiShapes.Api.CHAT) {
            ObjectNode delta = OpenAiShapes.JSON.objectNode();
            delta.put("content", text);
            sendDelta(index, delta, lp);
        } else {
            ObjectNode chunk = chunk();
            ObjectNode choice = ((ArrayNode) chunk.get("choices")).addObject();
            choice.put("index", index);
            choice.put("text", text);
            if (logprobs) {
                choice.set("logprobs", OpenAiShapes.completionLogprobs(lp, tokenizer, textOffsets[index]));
            } else {
                choice.putNull("logprobs");
            }
            textOffsets[index] += text.length();
            choice.putNull("finish_reason");
            send(chunk);
        }
    }

    @Override
    public synchronized void reasoning(int index, String text, List<SampledLogprobs> lp) {
        ObjectNode delta = OpenAiShapes.JSON.objectNode();
        delta.put("reasoning_content", text);
        sendDelta(index, delta, lp);
    }

    @Override
    public synchronized void toolCall(int index, ToolCallEvent event, List<SampledLogprobs> lp) {
        ObjectNode delta = OpenAiShapes.JSON.objectNode();
        if (event.hasCall()) {
            delta.putArray("tool_calls").add(OpenAiShapes.toolCall(event));
        } else {
            delta.putArray("tool_call_errors").add(event.getError()); // our extension: an unparsable block
        }
        sendDelta(index, delta, lp);
    }

    @Override
    public synchronized void finished(int index, FinishReason reason, boolean toolCalls, RequestStats s,
                                      int[] tokenIds) {
        String finish = OpenAiShapes.finishReason(reason, toolCalls);
        if (finish == null) {
            fail(ApiError.unavailable("the request was cancelled by the server", retryAfter));
            return;
        }
        stats[index] = s;
        ObjectNode chunk = chunk();
        ObjectNode choice = ((ArrayNode) chunk.get("choices")).addObject();
        choice.put("index", index);
        if (api == OpenAiShapes.Api.CHAT) {
            ObjectNode delta = choice.putObject("delta");
            if (!started[index]) {
                delta.put("role", "assistant");
                started[index] = true;
            }
        } else {
            choice.put("text", "");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finish);
        if (rag != null) {
            chunk.set("documents", CollectedChoices.documents(rag)); // our extension, once per choice, at its end
        }
        send(chunk);
        if (--open == 0) {
            if (includeUsage) {
                ObjectNode last = envelope(api.chunkObject);
                last.putArray("choices");
                last.set("usage", OpenAiShapes.usage(List.of(stats)));
                send(last);
            }
            end();
        }
    }

    @Override
    public synchronized void failed(int index, Throwable error, RequestStats s) {
        fail(ApiError.of(error, retryAfter));
    }

    private void fail(ApiError error) {
        cancelAll();
        if (!ended) {
            write("data: " + error.json() + "\n\n");
            end();
        }
    }

    private void end() {
        write("data: [DONE]\n\n");
        ended = true;
        events.complete();
    }

    private void sendDelta(int index, ObjectNode delta, List<SampledLogprobs> lp) {
        ObjectNode chunk = chunk();
        ObjectNode choice = ((ArrayNode) chunk.get("choices")).addObject();
        choice.put("index", index);
        if (!started[index]) {
            // the first delta of a choice names its role, as OpenAI's does
            ObjectNode withRole = OpenAiShapes.JSON.objectNode();
            withRole.put("role", "assistant");
            withRole.setAll(delta);
            delta = withRole;
            started[index] = true;
        }
        choice.set("delta", delta);
        if (logprobs) {
            choice.set("logprobs", OpenAiShapes.chatLogprobs(lp, tokenizer));
        } else {
            choice.putNull("logprobs");
        }
        choice.putNull("finish_reason");
        send(chunk);
    }

    private ObjectNode chunk() {
        ObjectNode chunk = envelope(api.chunkObject);
        chunk.putArray("choices");
        if (includeUsage) {
            chunk.putNull("usage");
        }
        return chunk;
    }

    private void send(ObjectNode chunk) {
        write("data: " + JsonFields.MAPPER.writeValueAsString(chunk) + "\n\n");
    }

    private void write(String event) {
        if (ended) {
            return;
        }
        try {
            events.send(event);
        } catch (IOException | IllegalStateException e) {
            // the client disconnected (or the response already ended): stop generating for it
            ended = true;
            cancelAll();
        }
    }
}
