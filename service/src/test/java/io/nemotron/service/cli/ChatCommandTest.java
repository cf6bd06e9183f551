package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.nemotron.api.v1.ChatFinal;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.ContentDelta;
import io.nemotron.api.v1.FinishReason;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.ReasoningDelta;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.Thinking;
import io.nemotron.api.v1.Timings;
import io.nemotron.api.v1.ToolCall;
import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.api.v1.Usage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nemotron chat} against a scripted gRPC server: the request it sends (messages, thinking, limits, tools, the
 * bearer key) and how it prints a stream (the answer on stdout, reasoning apart on stderr, one line per tool call,
 * the usage line), all written out by hand.
 */
class ChatCommandTest {
    private final AtomicReference<ChatRequest> received = new AtomicReference<>();
    private final AtomicReference<String> authorization = new AtomicReference<>();
    private volatile Status fail;
    private Server server;

    @TempDir
    Path tmp;

    @BeforeEach
    void start() throws Exception {
        NemotronGrpc.NemotronImplBase scripted = new NemotronGrpc.NemotronImplBase() {
            @Override
            public void chat(ChatRequest request, StreamObserver<ChatResponse> out) {
                received.set(request);
                if (fail != null) {
                    out.onError(fail.asRuntimeException());
                    return;
                }
                out.onNext(ChatResponse.newBuilder().setReasoning(ReasoningDelta.newBuilder().setText("Let me ")).build());
                out.onNext(ChatResponse.newBuilder().setReasoning(ReasoningDelta.newBuilder().setText("think.")).build());
                out.onNext(ChatResponse.newBuilder().setContent(ContentDelta.newBuilder().setText("It is ")).build());
                out.onNext(ChatResponse.newBuilder().setContent(ContentDelta.newBuilder().setText("sunny.")).build());
                out.onNext(ChatResponse.newBuilder().setToolCall(ToolCallEvent.newBuilder().setIndex(0)
                        .setCall(ToolCall.newBuilder().setId("call_0").setName("get_weather")
                                .setArguments(Struct.newBuilder().putFields("city",
                                        Value.newBuilder().setStringValue("Paris").build())))).build());
                out.onNext(ChatResponse.newBuilder().setFinal(ChatFinal.newBuilder().setFinishReason(FinishReason.TOOL_CALLS)
                        .setUsage(Usage.newBuilder().setPromptTokens(12).setCompletionTokens(7).setCachedPromptTokens(0))
                        .setTimings(Timings.newBuilder().setTotalMs(42))).build());
                out.onCompleted();
            }
        };
        Metadata.Key<String> auth = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
        ServerInterceptor keys = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                               ServerCallHandler<Q, A> next) {
                authorization.set(headers.get(auth));
                return Contexts.interceptCall(io.grpc.Context.current(), call, headers, next);
            }
        };
        server = ServerBuilder.forPort(0).addService(ServerInterceptors.intercept(scripted, keys)).build().start();
    }

    @AfterEach
    void stop() {
        server.shutdownNow();
    }

    private String target() {
        return "127.0.0.1:" + server.getPort();
    }

    @Test
    void streamsTheAnswerWithReasoningApartAndToolCallsOnALine() throws Exception {
        Path tools = Files.writeString(tmp.resolve("tools.json"), """
                [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]""");
        CliRun run = CliRun.of("chat", "--target", target(), "--system", "Be brief.", "--thinking", "on",
                "--max-tokens", "64", "--temperature", "0.2", "--tools", tools.toString(), "--api-key", "k-123",
                "What is the weather in Paris?");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("It is sunny.\n[tool call call_0] get_weather {\"city\":\"Paris\"}\n", run.out());
        assertEquals("[reasoning] Let me think.\n[tool_calls] prompt 12 tokens (0 cached), completion 7 tokens, 42 ms\n",
                run.err());

        ChatRequest r = received.get();
        assertEquals(2, r.getMessagesCount());
        assertEquals(Role.ROLE_SYSTEM, r.getMessages(0).getRole());
        assertEquals("Be brief.", r.getMessages(0).getContent());
        assertEquals(Role.ROLE_USER, r.getMessages(1).getRole());
        assertEquals("What is the weather in Paris?", r.getMessages(1).getContent());
        assertEquals(Thinking.THINKING_ON, r.getThinking());
        assertEquals(64, r.getMaxTokens());
        assertEquals(0.2f, r.getSampling().getTemperature());
        assertEquals("get_weather", r.getTools(0).getName());
        assertEquals("Weather now", r.getTools(0).getDescription());
        assertEquals("string", r.getTools(0).getParameters().getFieldsOrThrow("properties").getStructValue()
                .getFieldsOrThrow("city").getStructValue().getFieldsOrThrow("type").getStringValue());
        assertEquals("Bearer k-123", authorization.get());
    }

    @Test
    void withoutOptionsOnlyTheUserMessageGoesAndNoKey() {
        CliRun run = CliRun.of("chat", "--target", target(), "hi");
        assertEquals(0, run.exitCode(), run.err());
        ChatRequest r = received.get();
        assertEquals(1, r.getMessagesCount());
        assertEquals(Thinking.THINKING_UNSPECIFIED, r.getThinking());
        assertEquals(false, r.hasMaxTokens());
        assertEquals(null, authorization.get());
    }

    @Test
    void aServerErrorIsOneLineNamingTheTargetAndStatus() {
        fail = Status.INVALID_ARGUMENT.withDescription("max_tokens: must be >= 1, got 0");
        CliRun run = CliRun.of("chat", "--target", target(), "hi");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains(target() + ": INVALID_ARGUMENT: max_tokens: must be >= 1, got 0"), run.err());
    }

    @Test
    void badFlagsAreNamed() {
        CliRun thinking = CliRun.of("chat", "--target", target(), "--thinking", "maybe", "hi");
        assertEquals(1, thinking.exitCode());
        assertTrue(thinking.err().contains("--thinking 'maybe'"), thinking.err());
        CliRun tools = CliRun.of("chat", "--target", target(), "--tools", tmp.resolve("none.json").toString(), "hi");
        assertEquals(1, tools.exitCode());
        assertTrue(tools.err().contains("--tools") && tools.err().contains("no such file"), tools.err());
    }
}
