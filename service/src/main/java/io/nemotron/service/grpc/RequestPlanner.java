package io.nemotron.service.grpc;

import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.core.engine.InvalidRequestException;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.service.chat.PreparedChat;
import io.nemotron.service.chat.SamplingDefaults;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.engine.ServingModel;
import io.nemotron.service.toolcall.ToolChoice;
import java.util.List;
import java.util.Locale;
import org.springframework.stereotype.Component;

/**
 * A Chat or Generate request (the API's messages) made ready for {@code Engine.submit}: limits, control tokens, the
 * one chat preparation, sampling. Shared by the gRPC service and the OpenAI HTTP API, which maps its JSON onto the
 * same messages, so the same request gives the same prompt ids and sampling whichever way it came in.
 */
@Component
public class RequestPlanner {
    private final ModelHost host;
    private final RequestLimits limits;
    private volatile Guarded guarded;

    public RequestPlanner(ModelHost host, RequestLimits limits) {
        this.host = host;
        this.limits = limits;
    }

    /** What to submit for one Chat request; {@code model} is the one the plan was made for. */
    public record ChatPlan(ServingModel model, PreparedChat prepared, ToolChoice toolChoice, SamplingParams params) {
        public int[] ids() {
            return prepared.ids();
        }
    }

    /** What to submit for one Generate request. */
    public record GeneratePlan(ServingModel model, int[] ids, SamplingParams params) {}

    public ChatPlan chat(ChatRequest request) {
        ServingModel m = host.ready();
        limits.check(request);
        controlTokens(m).check(request);   // after the cheap count limits: it walks every string
        ToolChoice toolChoice = ChatRequests.toolChoice(request);
        Integer maxTokens = request.hasMaxTokens() ? unsigned(request.getMaxTokens()) : null;
        PreparedChat prepared = m.chat().prepare(ChatRequests.toCore(request, toolChoice), maxTokens);
        int[] ids = prepared.ids();
        SamplingParams params = Samplings.of(request.getSampling(), prepared.sampling(),
                limits.maxTokens(maxTokens, ids.length, "messages", m.contextLength()), ids.length,
                m.contextLength(), request.getStopList(), false, request.getLogprobs(), request.getTopLogprobs());
        return new ChatPlan(m, prepared, toolChoice, params);
    }

    public GeneratePlan generate(GenerateRequest request) {
        ServingModel m = host.ready();
        int[] ids = promptIds(request, m);
        SamplingParams params = Samplings.of(request.getSampling(), SamplingDefaults.GREEDY, limits.maxTokens(
                        request.hasMaxTokens() ? unsigned(request.getMaxTokens()) : null, ids.length,
                        request.getPromptCase().name().toLowerCase(Locale.ROOT), m.contextLength()),
                ids.length, m.contextLength(),
                request.getStopList(), request.getIgnoreEos(), request.getLogprobs(), request.getTopLogprobs());
        return new GeneratePlan(m, ids, params);
    }

    /** The model's control-token guard, built once per loaded model (its tokenizer's special tokens). */
    private ControlTokens controlTokens(ServingModel m) {
        Guarded g = guarded;
        if (g == null || g.model() != m) {
            g = new Guarded(m, ControlTokens.of(m.tokenizer()));
            guarded = g;
        }
        return g.tokens();
    }

    private record Guarded(ServingModel model, ControlTokens tokens) {}

    private static int[] promptIds(GenerateRequest request, ServingModel m) {
        return switch (request.getPromptCase()) {
            case TEXT -> {
                if (request.getText().isEmpty()) {
                    throw new InvalidRequestException("text: must not be empty");
                }
                yield m.tokenizer().encode(request.getText(), true);
            }
            case TOKEN_IDS -> {
                if (request.getTokenIds().getIdsCount() == 0) {
                    throw new InvalidRequestException("token_ids: must not be empty");
                }
                yield checkedIds(request.getTokenIds().getIdsList(), m.model().config().vocabSize(), "token_ids");
            }
            case PROMPT_NOT_SET -> throw new InvalidRequestException("prompt: give text or token_ids");
        };
    }

    static int[] checkedIds(List<Integer> ids, int vocab, String field) {
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            long id = Integer.toUnsignedLong(ids.get(i));
            if (id >= vocab) {
                throw new InvalidRequestException(field + "[" + i + "]: id " + id + " is outside the vocabulary (" + vocab + ")");
            }
            out[i] = (int) id;
        }
        return out;
    }

    /** uint32 on the wire: values past int's range are simply too many tokens. */
    static int unsigned(int v) {
        return v < 0 ? Integer.MAX_VALUE : v;
    }
}
