package io.nemotron.service.grpc;

import io.grpc.BindableService;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.DetokenizeRequest;
import io.nemotron.api.v1.DetokenizeResponse;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GenerateResponse;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.ModelInfo;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.TokenizeRequest;
import io.nemotron.api.v1.TokenizeResponse;
import io.nemotron.service.chat.PreparedChat;
import io.nemotron.core.engine.EngineRequest;
import io.nemotron.service.config.NemotronProperties;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.engine.ServingModel;
import io.nemotron.service.grpc.stream.ChatCall;
import io.nemotron.service.grpc.stream.ChatPipelineFactory;
import io.nemotron.service.grpc.stream.GenerateCall;
import io.nemotron.service.grpc.stream.ResponseStream;
import io.nemotron.service.metrics.RequestMetrics;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Service;

/**
 * The {@code nemotron.v1.Nemotron} service: maps requests onto the engine and engine events onto the stream.
 * Exceptions thrown here become statuses in {@link StatusMapper}; validation messages start with the field.
 * <p>
 * It implements the generated {@code AsyncService} rather than extending {@code NemotronImplBase} because the base
 * class's {@code bindService()} is final and the binding must go through {@link RequestGuard}.
 */
@Service
public class NemotronGrpcService implements NemotronGrpc.AsyncService, BindableService {
    private final ModelHost host;
    private final ChatPipelineFactory pipelines;
    private final Executor streamExecutor;
    private final RequestGuard guard;
    private final int maxPending;
    private final RequestPlanner planner;
    private final RequestMetrics metrics;

    public NemotronGrpcService(ModelHost host, ChatPipelineFactory pipelines,
                               @Qualifier("streamExecutor") Executor streamExecutor, NemotronProperties props,
                               RequestPlanner planner, RequestMetrics metrics) {
        this.host = host;
        this.metrics = metrics;
        this.pipelines = pipelines;
        this.streamExecutor = streamExecutor;
        this.guard = new RequestGuard(props.grpc().maxRequestSize().toBytes());
        this.maxPending = props.grpc().maxPendingMessages();
        this.planner = planner;
    }

    @Override
    public ServerServiceDefinition bindService() {
        return guard.guard(NemotronGrpc.bindService(this));
    }

    @Override
    public void chat(ChatRequest request, StreamObserver<ChatResponse> observer) {
        RequestPlanner.ChatPlan plan = planner.chat(request);
        PreparedChat prepared = plan.prepared();
        String id = requestId(request.getRequestId());
        var stream = new ResponseStream<>((ServerCallStreamObserver<ChatResponse>) observer, streamExecutor, maxPending);
        var call = new ChatCall(stream, out -> pipelines.create(prepared.request(), prepared.thinkingOn(),
                plan.toolChoice(), out), id, prepared.context().usedIds(), prepared.context().droppedIds());
        metrics.documentsDropped(prepared.context().dropped());
        stream.bind(plan.model().engine().submit(new EngineRequest(id, plan.ids(), plan.params(),
                request.getPriority(), deadlineNanos()), metrics.listen(RequestMetrics.CHAT, call)));
    }

    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateResponse> observer) {
        RequestPlanner.GeneratePlan plan = planner.generate(request);
        String id = requestId(request.getRequestId());
        var stream = new ResponseStream<>((ServerCallStreamObserver<GenerateResponse>) observer, streamExecutor,
                maxPending);
        var call = new GenerateCall(stream, id);
        stream.bind(plan.model().engine().submit(new EngineRequest(id, plan.ids(), plan.params(),
                request.getPriority(), deadlineNanos()), metrics.listen(RequestMetrics.GENERATE, call)));
    }

    @Override
    public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> observer) {
        int[] ids = host.ready().tokenizer().encode(request.getText(), request.getAddSpecialTokens());
        TokenizeResponse.Builder out = TokenizeResponse.newBuilder();
        for (int id : ids) {
            out.addIds(id);
        }
        observer.onNext(out.build());
        observer.onCompleted();
    }

    @Override
    public void detokenize(DetokenizeRequest request, StreamObserver<DetokenizeResponse> observer) {
        ServingModel m = host.ready();
        int[] ids = RequestPlanner.checkedIds(request.getIdsList(), m.tokenizer().vocabSize(), "ids");
        String text = m.tokenizer().decode(ids, request.getSkipSpecialTokens());
        observer.onNext(DetokenizeResponse.newBuilder().setText(text).build());
        observer.onCompleted();
    }

    @Override
    public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> observer) {
        observer.onNext(host.ready().info());
        observer.onCompleted();
    }

    private static String requestId(String given) {
        return given.isEmpty() ? "req-" + UUID.randomUUID() : given;
    }

    /** The call's deadline on the engine's clock, so an expired request leaves the batch without a client event. */
    private static long deadlineNanos() {
        Deadline d = Context.current().getDeadline();
        return d == null ? Long.MAX_VALUE : System.nanoTime() + d.timeRemaining(TimeUnit.NANOSECONDS);
    }
}
