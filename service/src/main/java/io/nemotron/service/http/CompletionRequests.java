package io.nemotron.service.http;

import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.TokenIds;
import io.nemotron.core.engine.InvalidRequestException;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * An OpenAI {@code POST /v1/completions} body onto the API's {@link GenerateRequest} (the Generate RPC's): one
 * prompt, as text or as token ids. {@code max_tokens} defaults to 16 as in OpenAI's and vLLM's completions API.
 */
final class CompletionRequests {
    static final int DEFAULT_MAX_TOKENS = 16;

    private CompletionRequests() {}

    record Parsed(GenerateRequest request, int n, boolean stream, boolean includeUsage, String model,
                  boolean returnTokenIds) {}

    static Parsed parse(String body) {
        JsonFields f = JsonFields.body(body);
        for (String field : List.of("suffix", "logit_bias")) {
            if (f.has(field)) {
                throw new InvalidRequestException(field + ": not supported by this server");
            }
        }
        if (f.bool("echo", false)) {
            throw new InvalidRequestException("echo: not supported by this server");
        }
        Integer bestOf = f.integer("best_of", 1, ChatCompletionRequests.MAX_N);
        if (bestOf != null && bestOf != 1) {
            throw new InvalidRequestException("best_of: not supported by this server (only 1)");
        }
        GenerateRequest.Builder r = GenerateRequest.newBuilder();
        prompt(f, r);
        r.setSampling(ChatCompletionRequests.sampling(f));
        r.setMaxTokens(ChatCompletionRequests.orDefault(f.integer("max_tokens", 1, Integer.MAX_VALUE),
                DEFAULT_MAX_TOKENS));
        r.addAllStop(ChatCompletionRequests.stop(f));
        // the completions API's logprobs is the number of alternatives (0 = only the chosen token's)
        Integer logprobs = f.integer("logprobs", 0, Integer.MAX_VALUE);
        if (logprobs != null) {
            r.setLogprobs(true).setTopLogprobs(logprobs);
        }
        r.setIgnoreEos(f.bool("ignore_eos", false));
        int n = ChatCompletionRequests.orDefault(f.integer("n", 1, ChatCompletionRequests.MAX_N), 1);
        boolean stream = f.bool("stream", false);
        JsonFields options = f.object("stream_options");
        if (options != null && !stream) {
            throw new InvalidRequestException("stream_options: only allowed when stream is true");
        }
        f.string("user");
        return new Parsed(r.build(), n, stream, options != null && options.bool("include_usage", false),
                f.string("model"), f.bool("return_token_ids", false));
    }

    /** A string, or an array of token ids; a list of several prompts is refused (send one request each). */
    private static void prompt(JsonFields f, GenerateRequest.Builder r) {
        JsonNode p = f.raw("prompt");
        if (p == null) {
            throw new InvalidRequestException("prompt: is required");
        }
        if (p.isString()) {
            r.setText(p.asString());
            return;
        }
        List<JsonNode> items = f.array("prompt");
        if (items.size() == 1 && (items.getFirst().isString() || items.getFirst().isArray())) {
            // a batch of one: unwrap it
            JsonNode only = items.getFirst();
            if (only.isString()) {
                r.setText(only.asString());
                return;
            }
            items = List.copyOf(only.valueStream().toList());
        }
        TokenIds.Builder ids = TokenIds.newBuilder();
        for (int i = 0; i < items.size(); i++) {
            JsonNode id = items.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                throw new InvalidRequestException("prompt[" + i + "]: must be a token id (a non-negative integer); "
                        + "one prompt per request");
            }
            ids.addIds(id.intValue());
        }
        r.setTokenIds(ids);
    }
}
