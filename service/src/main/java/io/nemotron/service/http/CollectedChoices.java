package io.nemotron.service.http;

import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.tokenizer.Tokenizer;
import io.nemotron.service.rag.RagContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.context.request.async.DeferredResult;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A non-streamed response: every choice is collected, and one JSON body leaves when the last one ends. With vLLM's
 * {@code return_token_ids} the prompt's ids and each choice's generated ids come along.
 */
final class CollectedChoices extends ChoicesResponse {
    /** No timeout of its own: generation takes as long as max_tokens says (0 means none to the servlet container). */
    final DeferredResult<Object> result = new DeferredResult<>(0L);
    private final Choice[] choices;
    private final boolean logprobs;
    private final RagContext rag;
    private final int[] promptIds;
    private int open;

    CollectedChoices(OpenAiShapes.Api api, String id, String model, int n, Tokenizer tokenizer, Duration retryAfter,
                     boolean logprobs, RagContext rag, int[] promptIds) {
        super(api, id, model, n, tokenizer, retryAfter);
        this.choices = new Choice[n];
        for (int i = 0; i < n; i++) {
            choices[i] = new Choice();
        }
        this.open = n;
        this.logprobs = logprobs;
        this.rag = rag;
        this.promptIds = promptIds;
        // the client went away or the container gave up: nobody reads the answer
        result.onError(e -> cancelAll());
        result.onTimeout(this::cancelAll);
    }

    private static final class Choice {
        final StringBuilder content = new StringBuilder();
        final StringBuilder reasoning = new StringBuilder();
        final List<ObjectNode> toolCalls = new ArrayList<>();
        final List<String> toolCallErrors = new ArrayList<>();
        final List<SampledLogprobs> logprobs = new ArrayList<>();
        String finishReason;
        RequestStats stats;
        int[] tokenIds;
    }

    @Override
    public synchronized void content(int index, String text, List<SampledLogprobs> lp) {
        choices[index].content.append(text);
        choices[index].logprobs.addAll(lp);
    }

    @Override
    public synchronized void reasoning(int index, String text, List<SampledLogprobs> lp) {
        choices[index].reasoning.append(text);
        choices[index].logprobs.addAll(lp);
    }

    @Override
    public synchronized void toolCall(int index, ToolCallEvent event, List<SampledLogprobs> lp) {
        if (event.hasCall()) {
            choices[index].toolCalls.add(OpenAiShapes.toolCall(event));
        } else {
            choices[index].toolCallErrors.add(event.getError());
        }
        choices[index].logprobs.addAll(lp);
    }

    @Override
    public synchronized void finished(int index, FinishReason reason, boolean toolCalls, RequestStats stats,
                                      int[] tokenIds) {
        String finish = OpenAiShapes.finishReason(reason, toolCalls);
        if (finish == null) {
            fail(ApiError.unavailable("the request was cancelled by the server", retryAfter));
            return;
        }
        choices[index].finishReason = finish;
        choices[index].stats = stats;
        choices[index].tokenIds = tokenIds;
        if (--open == 0) {
            result.setResult(ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON)
                    .body(JsonFields.MAPPER.writeValueAsString(body())));
        }
    }

    @Override
    public synchronized void failed(int index, Throwable error, RequestStats stats) {
        fail(ApiError.of(error, retryAfter));
    }

    private void fail(ApiError error) {
        cancelAll();
        result.setResult(error.response()); // ignored when an earlier choice already failed
    }

    private ObjectNode body() {
        ObjectNode root = envelope(api.object);
        ArrayNode out = root.putArray("choices");
        List<RequestStats> stats = new ArrayList<>();
        for (int i = 0; i < choices.length; i++) {
            Choice c = choices[i];
            stats.add(c.stats);
            ObjectNode choice = out.addObject();
            choice.put("index", i);
            if (api == OpenAiShapes.Api.CHAT) {
                ObjectNode message = choice.putObject("message");
                message.put("role", "assistant");
                if (c.content.isEmpty() && !c.toolCalls.isEmpty()) {
                    message.putNull("content"); // as OpenAI: a turn of only tool calls has no content
                } else {
                    message.put("content", c.content.toString());
                }
                if (c.reasoning.isEmpty()) {
                    message.putNull("reasoning_content");
                } else {
                    message.put("reasoning_content", c.reasoning.toString());
                }
                if (!c.toolCalls.isEmpty()) {
                    ArrayNode calls = message.putArray("tool_calls");
                    c.toolCalls.forEach(call -> calls.add(call.without("index")));
                }
                if (!c.toolCallErrors.isEmpty()) {
                    ArrayNode errors = message.putArray("tool_call_errors"); // our extension: unparsable blocks
                    c.toolCallErrors.forEach(errors::add);
                }
                if (logprobs) {
                    choice.set("logprobs", OpenAiShapes.chatLogprobs(c.logprobs, tokenizer));
                } else {
                    choice.putNull("logprobs");
                }
            } else {
                choice.put("text", c.content.toString());
                if (logprobs) {
                    choice.set("logprobs", OpenAiShapes.completionLogprobs(c.logprobs, tokenizer, 0));
                } else {
                    choice.putNull("logprobs");
                }
            }
            choice.put("finish_reason", c.finishReason);
            if (promptIds != null) {
                ArrayNode ids = choice.putArray("token_ids");
                for (int id : c.tokenIds) {
                    ids.add(id);
                }
            }
        }
        if (promptIds != null) { // vLLM's return_token_ids extension
            ArrayNode ids = root.putArray("prompt_token_ids");
            for (int id : promptIds) {
                ids.add(id);
            }
        }
        root.set("usage", OpenAiShapes.usage(stats));
        if (rag != null) {
            root.set("documents", documents(rag));
        }
        return root;
    }

    /** Our extension: which documents the RAG assembler put into the prompt and which it left out. */
    static ObjectNode documents(RagContext rag) {
        ObjectNode d = OpenAiShapes.JSON.objectNode();
        ArrayNode used = d.putArray("used");
        rag.usedIds().forEach(used::add);
        ArrayNode dropped = d.putArray("dropped");
        rag.droppedIds().forEach(dropped::add);
        return d;
    }
}
