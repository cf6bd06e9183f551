package io.nemotron.service.cli;

import io.nemotron.service.grpc.stream.BufferedChatOutput;
import io.nemotron.service.grpc.stream.PlainTextPipeline;
import io.nemotron.service.reasoning.ThinkSplitter;
import io.nemotron.service.toolcall.ParsedToolCall;
import io.nemotron.service.toolcall.ToolCallParseResult;
import io.nemotron.service.toolcall.ToolCallStreamParser;
import io.nemotron.service.toolcall.ToolCallValidator;
import io.nemotron.service.toolcall.ToolChoice;
import io.nemotron.service.toolcall.ToolSpec;
import io.nemotron.service.toolcall.ToolSpecs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code ./nemotron tools parse [--tools FILE]}: the server's tool-call parser on raw model output from stdin.
 * Prints {@code {"content", "reasoning", "tool_calls":[{"id","name","arguments","errors"}], "errors"}}; arguments
 * keep their JSON types (an int stays an int). Malformed output is not a command error: it shows in "errors".
 */
@Command(name = "parse", mixinStandardHelpOptions = true,
        description = "Parse raw model output (stdin) into content and tool calls, printed as JSON.")
final class ToolsParseCommand implements Callable<Integer> {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    @Spec
    private CommandSpec spec;

    @Option(names = "--tools", paramLabel = "FILE",
            description = "JSON array of tools ({name, description, parameters}, OpenAI {type, function} entries or"
                    + " BFCL function docs) to validate the calls against.")
    private Path toolsFile;

    /** What the {@code <think>} splitter makes of the output. */
    record ReasoningSplit(String reasoning, String answer) {}

    @Override
    public Integer call() throws IOException {
        ToolCallValidator validator = toolsFile == null
                ? ToolCallValidator.syntaxOnly()
                : new ToolCallValidator(readTools(toolsFile), ToolChoice.AUTO);
        String output = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        ReasoningSplit split = splitReasoning(output);
        ToolCallParseResult result = ToolCallStreamParser.parse(split.answer(), validator);
        PrintWriter out = spec.commandLine().getOut();
        out.println(MAPPER.writeValueAsString(toJson(split.reasoning(), result)));
        out.flush();
        return 0;
    }

    /** A leading {@code <think>...</think>} section is reasoning, the rest the answer (as the Chat RPC splits it). */
    static ReasoningSplit splitReasoning(String output) {
        BufferedChatOutput sink = new BufferedChatOutput();
        ThinkSplitter splitter = new ThinkSplitter(sink, new PlainTextPipeline(sink), true);
        splitter.accept(output);
        splitter.finish();
        return new ReasoningSplit(sink.reasoning(), sink.content());
    }

    private static List<ToolSpec> readTools(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--tools " + file + ": no such file");
        }
        try {
            return ToolSpecs.fromJson(MAPPER.readTree(Files.readString(file)));
        } catch (JacksonException e) {
            throw new IllegalArgumentException("--tools " + file + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tools " + file + ": " + e.getMessage());
        }
    }

    static ObjectNode toJson(String reasoning, ToolCallParseResult result) {
        ObjectNode json = MAPPER.createObjectNode();
        json.put("content", result.content());
        json.put("reasoning", reasoning);
        ArrayNode calls = json.putArray("tool_calls");
        for (ParsedToolCall call : result.calls()) {
            ObjectNode item = calls.addObject();
            item.put("id", call.id());
            item.put("name", call.name());
            item.set("arguments", call.arguments());
            ArrayNode errors = item.putArray("errors");
            call.errors().forEach(errors::add);
        }
        ArrayNode errors = json.putArray("errors");
        result.errors().forEach(errors::add);
        return json;
    }
}
