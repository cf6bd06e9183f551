package io.nemotron.service.http;

import io.nemotron.core.engine.EngineRequest;
import io.nemotron.core.engine.InvalidRequestException;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.service.admission.AdmissionProperties;
import io.nemotron.service.chat.PreparedChat;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.engine.ServingModel;
import io.nemotron.service.grpc.RequestPlanner;
import io.nemotron.service.grpc.stream.ChatPipelineFactory;
import io.nemotron.service.grpc.stream.PlainTextPipeline;
import io.nemotron.service.metrics.RequestMetrics;
import io.nemotron.service.rag.RagContext;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Duration;
import java.util.UUID;
import java.util.function.IntFunction;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.AsyncRequestNotUsableException;
import org.springframework.web.context.request.async.DeferredResult;
import tools.jackson.databind.node.ObjectNode;

/**
 * The OpenAI-compatible HTTP API: a thin adapter. Bodies are mapped onto the API's Chat / Generate messages, planned
 * by the same {@link RequestPlanner} as the gRPC calls, and each of the request's {@code n} choices is one engine
 * request with the same prompt (prefix caching shares its blocks). Errors before the first byte are HTTP statuses
 * ({@link ApiError}); authentication, admission and metrics are servlet filters around this.
 * <p>
 * Chat and completions answer with a {@link DeferredResult} holding either the collected JSON body or the SSE
 * emitter: which one is known only from the body, and Spring MVC picks its return handler from the value there.
 */
@RestController
@RequestMapping("/v1")
public class OpenAiController {
    private final RequestPlanner planner;
    private final ChatPipelineFactory pipelines;
    private final ModelHost host;
    private final RequestMetrics metrics;
    private final Duration retryAfter;

    public OpenAiController(RequestPlanner planner, ChatPipelineFactory pipelines, ModelHost host,
                            RequestMetrics metrics, AdmissionProperties admission) {
        this.planner = planner;
        this.pipelines = pipelines;
        this.host = host;
        this.metrics = metrics;
        this.retryAfter = admission.retryAfter();
    }

    @PostMapping("/chat/completions")
    public DeferredResult<Object> chatCompletions(@RequestBody(required = false) String body) {
        ChatCompletionRequests.Parsed parsed = ChatCompletionRequests.parse(body);
        RequestPlanner.ChatPlan plan;
        try {
            plan = planner.chat(parsed.request());
        } catch (InvalidRequestException e) {
            throw OpenAiParams.chat(e);
        }
        PreparedChat prepared = plan.prepared();
        RagContext rag = parsed.request().getDocumentsCount() > 0 ? prepared.context() : null;
        ChoicesResponse response = respond(OpenAiShapes.Api.CHAT, "chatcmpl-", parsed.stream(), parsed.n(),
                parsed.includeUsage(), parsed.request().getLogprobs(), rag, plan.model(),
                parsed.returnTokenIds() ? plan.ids() : null);
        metrics.documentsDropped(prepared.context().dropped());
        submit(plan.model(), response, plan.ids(), plan.params(), RequestMetrics.CHAT, index ->
                new ChoiceListener(index, response, out -> pipelines.create(prepared.request(),
                        prepared.thinkingOn(), plan.toolChoice(), out)));
        return result(response);
    }

    @PostMapping("/completions")
    public DeferredResult<Object> completions(@RequestBody(required = false) String body) {
        CompletionRequests.Parsed parsed = CompletionRequests.parse(body);
        RequestPlanner.GeneratePlan plan;
        try {
            plan = planner.generate(parsed.request());
        } catch (InvalidRequestException e) {
            throw OpenAiParams.completions(e);
        }
        ChoicesResponse response = respond(OpenAiShapes.Api.COMPLETIONS, "cmpl-", parsed.stream(), parsed.n(),
                parsed.includeUsage(), parsed.request().getLogprobs(), null, plan.model(),
                parsed.returnTokenIds() ? plan.ids() : null);
        submit(plan.model(), response, plan.ids(), plan.params(), RequestMetrics.GENERATE,
                index -> new ChoiceListener(index, response, PlainTextPipeline::new));
        return result(response);
    }

    @GetMapping("/models")
    public ResponseEntity<String> models() {
        ServingModel m = host.ready();
        ObjectNode root = OpenAiShapes.JSON.objectNode();
        root.put("object", "list");
        ObjectNode model = root.putArray("data").addObject();
        model.put("id", modelName(m));
        model.put("object", "model");
        model.put("created", 0);
        model.put("owned_by", "nemotron-serve");
        model.put("max_model_len", m.contextLength());
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON)
                .body(JsonFields.MAPPER.writeValueAsString(root));
    }

    /** Anything else under /v1: OpenAI's error shape rather than the servlet container's page. */
    @RequestMapping("/**")
    ResponseEntity<String> unknownRoute(HttpServletRequest request) {
        String route = request.getRequestURI();
        if (HttpRequestCounter.ROUTES.contains(route)) {
            return ApiError.of(HttpStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
                    "method: " + route + " does not take " + request.getMethod()).response();
        }
        return ApiError.of(HttpStatus.NOT_FOUND, "not_found", "url: no route " + request.getMethod() + " " + route
                + " (this server has /v1/chat/completions, /v1/completions and /v1/models)").response();
    }

    /** The client went away while its response was written: nobody to answer (the choices were cancelled). */
    @ExceptionHandler(AsyncRequestNotUsableException.class)
    void clientGone() {
    }

    /** Every failure of these routes, before a response began, in OpenAI's error shape. */
    @ExceptionHandler(Throwable.class)
    ResponseEntity<String> error(Throwable e) {
        return ApiError.of(e, retryAfter).response();
    }

    private ChoicesResponse respond(OpenAiShapes.Api api, String prefix, boolean stream, int n, boolean includeUsage,
                                    boolean logprobs, RagContext rag, ServingModel m, int[] returnPromptIds) {
        String id = prefix + UUID.randomUUID().toString().replace("-", "");
        // the response names the served model; a client's own name for it is not checked (one model per server)
        String model = modelName(m);
        return stream
                ? new StreamedChoices(api, id, model, n, m.tokenizer(), retryAfter, includeUsage, logprobs, rag,
                        new SseEvents())
                : new CollectedChoices(api, id, model, n, m.tokenizer(), retryAfter, logprobs, rag, returnPromptIds);
    }

    /** The n choices as n engine requests; a refused one (e.g. queue full) cancels those already in. */
    private void submit(ServingModel m, ChoicesResponse response, int[] ids, SamplingParams params, String rpc,
                        IntFunction<ChoiceListener> choice) {
        for (int i = 0; i < response.n; i++) {
            try {
                response.bind(m.engine().submit(new EngineRequest(response.id + "-" + i, ids, params, 0,
                        Long.MAX_VALUE), metrics.listen(rpc, choice.apply(i))));
            } catch (RuntimeException e) {
                response.cancelAll();
                throw e;
            }
        }
    }

    private static DeferredResult<Object> result(ChoicesResponse response) {
        return switch (response) {
            case StreamedChoices s -> {
                DeferredResult<Object> r = new DeferredResult<>(0L);
                r.setResult(((SseEvents) s.events).emitter);
                yield r;
            }
            case CollectedChoices c -> c.result;
            default -> throw new IllegalStateException("unknown response " + response.getClass());
        };
    }

    static String modelName(ServingModel m) {
        return m.staticInfo().getName();
    }
}
