package io.nemotron.service.cli;

import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nemotron.api.v1.ChatFinal;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.Sampling;
import io.nemotron.api.v1.Thinking;
import io.nemotron.api.v1.Tool;
import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.service.grpc.ProtoValues;
import io.nemotron.service.toolcall.JsonStructs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code nemotron chat "..."}: a client of a running server's Chat RPC, for any model it serves. The answer streams
 * to stdout as it arrives; reasoning (the {@code <think>} text) streams apart, on stderr under a {@code [reasoning]}
 * header, so stdout holds the answer alone; each tool call prints as one {@code [tool call ...]} line; the finish
 * reason and usage end the output on stderr.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Send one chat message to a running server (gRPC) and stream the answer.")
final class ChatCommand implements Callable<Integer> {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MESSAGE", description = "the user message")
    String message;

    @Option(names = "--target", defaultValue = "localhost:50051", paramLabel = "HOST:PORT",
            description = "the server's gRPC address (default localhost:50051; plaintext)")
    String target;

    @Option(names = "--system", paramLabel = "TEXT", description = "a system message before the user's")
    String system;

    @Option(names = "--thinking", paramLabel = "on|off", description = "reasoning on or off (default: the model's)")
    String thinking;

    @Option(names = "--max-tokens", paramLabel = "N", description = "most tokens to generate (default: the rest of the context)")
    Integer maxTokens;

    @Option(names = "--temperature", paramLabel = "T", description = "sampling temperature (default: the mode's)")
    Float temperature;

    @Option(names = "--tools", paramLabel = "FILE",
            description = "tools the model may call: a JSON array of {name, description, parameters}"
                    + " or OpenAI's {type: function, function: {...}}")
    Path tools;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "sent as authorization: Bearer KEY (default: $NEMOTRON_API_KEY, none when unset)")
    String apiKey;

    @Option(names = "--timeout", defaultValue = "600", paramLabel = "SECONDS", description = "deadline of the call (default 600)")
    long timeoutSeconds;

    @Override
    public Integer call() throws IOException {
        ChatRequest request = request();
        String key = apiKey != null ? apiKey : System.getenv("NEMOTRON_API_KEY");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ManagedChannel channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
        try {
            NemotronGrpc.NemotronBlockingStub stub = NemotronGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS);
            if (key != null && !key.isEmpty()) {
                stub = stub.withCallCredentials(bearer(key));
            }
            return print(stub.chat(request), out, err);
        } catch (StatusRuntimeException e) {
            Status s = e.getStatus();
            out.flush();
            throw new IllegalArgumentException(target + ": " + s.getCode() + (s.getDescription() == null ? ""
                    : ": " + s.getDescription()));
        } finally {
            channel.shutdownNow();
        }
    }

    /** Streams the events; returns the exit code (0, or 1 when the server ended the answer with an error). */
    private static int print(Iterator<ChatResponse> events, PrintWriter out, PrintWriter err) throws IOException {
        boolean inReasoning = false;
        boolean lineStart = true;   // stdout: the next character starts a line
        ChatFinal fin = null;
        while (events.hasNext()) {
            ChatResponse r = events.next();
            switch (r.getEventCase()) {
                case REASONING -> {
                    if (!inReasoning) {
                        err.print("[reasoning] ");
                        inReasoning = true;
                    }
                    err.print(r.getReasoning().getText());
                    err.flush();
                }
                case CONTENT -> {
                    if (inReasoning) {
                        err.println();
                        err.flush();
                        inReasoning = false;
                    }
                    String text = r.getContent().getText();
                    out.print(text);
                    out.flush();
                    lineStart = text.isEmpty() ? lineStart : text.endsWith("\n");
                }
                case TOOL_CALL -> {
                    out.print(lineStart ? "" : "\n");
                    out.println(toolCallLine(r.getToolCall()));
                    out.flush();
                    lineStart = true;
                }
                case FINAL -> fin = r.getFinal();
                case EVENT_NOT_SET -> { }
            }
        }
        if (!lineStart) {
            out.println();
        }
        out.flush();
        if (fin != null) {
            err.printf(Locale.ROOT, "[%s] prompt %d tokens (%d cached), completion %d tokens, %.0f ms%n",
                    fin.getFinishReason().name().toLowerCase(Locale.ROOT), fin.getUsage().getPromptTokens(),
                    fin.getUsage().getCachedPromptTokens(), fin.getUsage().getCompletionTokens(),
                    fin.getTimings().getTotalMs());
            err.flush();
        }
        return fin != null && fin.getFinishReason() == io.nemotron.api.v1.FinishReason.ERROR ? 1 : 0;
    }

    /** {@code [tool call call_0] name {"arg": 1}}, with the parser's error when the call is malformed. */
    static String toolCallLine(ToolCallEvent e) {
        String args = JSON.writeValueAsString(ProtoValues.toMap(e.getCall().getArguments()));
        return "[tool call " + e.getCall().getId() + "] " + e.getCall().getName() + " " + args
                + (e.getError().isEmpty() ? "" : "  (error: " + e.getError() + ")");
    }

    ChatRequest request() throws IOException {
        ChatRequest.Builder b = ChatRequest.newBuilder();
        if (system != null) {
            b.addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_SYSTEM).setContent(system));
        }
        b.addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(message));
        if (thinking != null) {
            b.setThinking(switch (thinking.toLowerCase(Locale.ROOT)) {
                case "on" -> Thinking.THINKING_ON;
                case "off" -> Thinking.THINKING_OFF;
                default -> throw new IllegalArgumentException("--thinking '" + thinking + "': use on or off");
            });
        }
        if (maxTokens != null) {
            if (maxTokens < 1) {
                throw new IllegalArgumentException("--max-tokens must be >= 1, got " + maxTokens);
            }
            b.setMaxTokens(maxTokens);
        }
        if (temperature != null) {
            b.setSampling(Sampling.newBuilder().setTemperature(temperature));
        }
        if (tools != null) {
            readTools(b);
        }
        return b.build();
    }

    private void readTools(ChatRequest.Builder b) throws IOException {
        if (!Files.isRegularFile(tools)) {
            throw new IllegalArgumentException("--tools " + tools + ": no such file");
        }
        JsonNode list;
        try {
            list = JSON.readTree(Files.readString(tools));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--tools " + tools + ": not JSON (" + e.getMessage() + ")");
        }
        if (!list.isArray()) {
            throw new IllegalArgumentException("--tools " + tools + ": expected a JSON array of tools");
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode t = list.get(i).has("function") ? list.get(i).get("function") : list.get(i);
            if (!t.has("name") || !t.get("name").isString()) {
                throw new IllegalArgumentException("--tools " + tools + ": tools[" + i + "] has no name");
            }
            Tool.Builder tool = Tool.newBuilder().setName(t.get("name").asString());
            if (t.has("description")) {
                tool.setDescription(t.get("description").asString());
            }
            if (t.has("parameters")) {
                if (!t.get("parameters").isObject()) {
                    throw new IllegalArgumentException("--tools " + tools + ": tools[" + i + "].parameters must be an object");
                }
                tool.setParameters(JsonStructs.toStruct(t.get("parameters")));
            }
            b.addTools(tool);
        }
    }

    private static CallCredentials bearer(String key) {
        Metadata.Key<String> authorization = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
        return new CallCredentials() {
            @Override
            public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
                Metadata headers = new Metadata();
                headers.put(authorization, "Bearer " + key);
                applier.apply(headers);
            }
        };
    }
}
