package io.nemotron.service.http;

import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.tokenizer.Tokenizer;
import io.nemotron.service.grpc.ProtoValues;
import java.nio.charset.StandardCharsets;
import java.util.List;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** The JSON pieces of OpenAI's responses: usage, logprobs, tool calls, finish reasons. */
final class OpenAiShapes {
    static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private OpenAiShapes() {}

    /** Which API a response belongs to: their objects and logprobs differ. */
    enum Api {
        CHAT("chat.completion", "chat.completion.chunk"),
        COMPLETIONS("text_completion", "text_completion");

        final String object;
        final String chunkObject;

        Api(String object, String chunkObject) {
            this.object = object;
            this.chunkObject = chunkObject;
        }
    }

    /**
     * OpenAI's finish reason; null for a server-side cancel, which is reported as an error instead. A choice that
     * called tools ends with tool_calls, as the Chat RPC's final does.
     */
    static String finishReason(FinishReason r, boolean toolCalls) {
        return switch (r) {
            case STOP -> toolCalls ? "tool_calls" : "stop";
            case LENGTH -> toolCalls ? "tool_calls" : "length";
            case CANCELLED, EXPIRED, ERROR -> null;
        };
    }

    /**
     * Usage of a request's choices: the prompt counted once (the choices share it), completions summed, the cached
     * prompt tokens of the first choice (the later ones find the first one's blocks).
     */
    static ObjectNode usage(List<RequestStats> choices) {
        int completion = 0;
        for (RequestStats s : choices) {
            completion += s.completionTokens();
        }
        RequestStats first = choices.getFirst();
        ObjectNode u = JSON.objectNode();
        u.put("prompt_tokens", first.promptTokens());
        u.put("completion_tokens", completion);
        u.put("total_tokens", first.promptTokens() + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", first.cachedPromptTokens());
        return u;
    }

    /** One tool call in OpenAI's shape; {@code arguments} is a JSON string, as OpenAI sends it. */
    static ObjectNode toolCall(ToolCallEvent e) {
        ObjectNode call = JSON.objectNode();
        call.put("index", e.getIndex());
        call.put("id", e.getCall().getId());
        call.put("type", "function");
        ObjectNode function = call.putObject("function");
        function.put("name", e.getCall().getName());
        function.put("arguments", JsonFields.MAPPER.writeValueAsString(ProtoValues.toMap(e.getCall().getArguments())));
        if (!e.getError().isEmpty()) {
            call.put("error", e.getError()); // our extension: the call does not match its tool's schema
        }
        return call;
    }

    /** Chat logprobs: {@code {"content": [{token, logprob, bytes, top_logprobs: [...]}]}}. */
    static ObjectNode chatLogprobs(List<SampledLogprobs> tokens, Tokenizer tokenizer) {
        ObjectNode out = JSON.objectNode();
        ArrayNode content = out.putArray("content");
        for (SampledLogprobs lp : tokens) {
            ObjectNode t = tokenEntry(lp.tokenId(), lp.logprob(), tokenizer);
            ArrayNode top = t.putArray("top_logprobs");
            if (lp.topIds() != null) {
                for (int i = 0; i < lp.topIds().length; i++) {
                    top.add(tokenEntry(lp.topIds()[i], lp.topLogprobs()[i], tokenizer));
                }
            }
            content.add(t);
        }
        return out;
    }

    /** Completions logprobs: parallel arrays {@code tokens, token_logprobs, top_logprobs, text_offset}. */
    static ObjectNode completionLogprobs(List<SampledLogprobs> tokens, Tokenizer tokenizer, int textOffset) {
        ObjectNode out = JSON.objectNode();
        ArrayNode texts = out.putArray("tokens");
        ArrayNode values = out.putArray("token_logprobs");
        ArrayNode tops = out.putArray("top_logprobs");
        ArrayNode offsets = out.putArray("text_offset");
        int offset = textOffset;
        for (SampledLogprobs lp : tokens) {
            String text = tokenText(lp.tokenId(), tokenizer);
            texts.add(text);
            values.add(lp.logprob());
            ObjectNode top = JSON.objectNode();
            if (lp.topIds() != null) {
                for (int i = 0; i < lp.topIds().length; i++) {
                    top.put(tokenText(lp.topIds()[i], tokenizer), lp.topLogprobs()[i]);
                }
            }
            tops.add(top);
            offsets.add(offset);
            offset += text.length();
        }
        return out;
    }

    private static ObjectNode tokenEntry(int id, float logprob, Tokenizer tokenizer) {
        String text = tokenText(id, tokenizer);
        ObjectNode t = JSON.objectNode();
        t.put("token", text);
        t.put("logprob", logprob);
        ArrayNode bytes = t.putArray("bytes");
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xff);
        }
        return t;
    }

    /** A token's own text (a lone piece of a multi-byte character decodes to U+FFFD, as in vLLM). */
    static String tokenText(int id, Tokenizer tokenizer) {
        return tokenizer.decode(new int[] {id}, false);
    }
}
