package io.nemotron.service.toolcall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.core.chat.ChatMessage;
import io.nemotron.core.chat.ChatRequest;
import io.nemotron.core.chat.Role;
import io.nemotron.service.grpc.stream.ChatOutput;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ChatTextPipeline adapter: content deltas and ToolCallEvents as the Chat RPC sends them. */
class ToolCallPipelineTest {

    private static final class Recorder implements ChatOutput {
        final StringBuilder content = new StringBuilder();
        final List<ToolCallEvent> calls = new ArrayList<>();

        @Override
        public void content(String text) {
            content.append(text);
        }

        @Override
        public void reasoning(String text) {
            throw new AssertionError("the tool-call stage makes no reasoning");
        }

        @Override
        public void toolCall(ToolCallEvent event) {
            calls.add(event);
        }
    }

    /** A request as ChatRequestParser builds it: tools in the OpenAI shape, as plain maps. */
    private static ChatRequest request() {
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("type", "object");
        parameters.put("properties", Map.of("city", Map.of("type", "string"), "days", Map.of("type", "integer")));
        parameters.put("required", List.of("city"));
        Map<String, Object> function = Map.of("name", "get_weather", "description", "Weather.", "parameters", parameters);
        return new ChatRequest(List.of(new ChatMessage(Role.USER, "hi", List.of(), null, null)),
                List.of(Map.of("type", "function", "function", function)), null, List.of(), null, null);
    }

    private static Recorder run(ToolChoice choice, boolean expectCalls, String... deltas) {
        Recorder out = new Recorder();
        ToolCallPipeline pipeline = new ToolCallPipeline(request(), choice, out);
        for (String delta : deltas) {
            pipeline.accept(delta);
        }
        assertEquals(expectCalls, pipeline.finish());
        return out;
    }

    @Test
    void callsBecomeEventsWithStructArguments() {
        Recorder out = run(ToolChoice.AUTO, true, "Sure. <TOOL", "CALL>[get_weather(city='Paris', days=3, x=[None, 1.5])",
                ", get_weather(days=2.5)]</TOOLCALL>");
        assertEquals("Sure. ", out.content.toString());
        assertEquals(2, out.calls.size());
        ToolCallEvent first = out.calls.get(0);
        assertEquals(0, first.getIndex());
        assertEquals("call_0", first.getCall().getId());
        assertEquals("get_weather", first.getCall().getName());
        Struct expected = Struct.newBuilder()
                .putFields("city", Value.newBuilder().setStringValue("Paris").build())
                .putFields("days", Value.newBuilder().setNumberValue(3).build())
                .putFields("x", Value.newBuilder().setListValue(ListValue.newBuilder()
                        .addValues(Value.newBuilder().setNullValue(NullValue.NULL_VALUE))
                        .addValues(Value.newBuilder().setNumberValue(1.5))).build())
                .build();
        assertEquals(expected, first.getCall().getArguments());
        assertEquals("", first.getError());
        ToolCallEvent second = out.calls.get(1);
        assertEquals(1, second.getIndex());
        assertEquals("call_1", second.getCall().getId());
        assertEquals("missing required argument 'city'; argument 'days': expected integer, got float 2.5",
                second.getError());
    }

    @Test
    void malformedBlockIsContentAndAnErrorEventWithoutACall() {
        Recorder out = run(ToolChoice.AUTO, false, "<TOOLCALL>[get_weather(city=]</TOOLCALL>");
        assertEquals("<TOOLCALL>[get_weather(city=]</TOOLCALL>", out.content.toString());
        assertEquals(1, out.calls.size());
        assertFalse(out.calls.getFirst().hasCall());
        assertTrue(out.calls.getFirst().getError().startsWith("malformed <TOOLCALL> block"));
    }

    @Test
    void toolChoiceModes() {
        Recorder none = run(ToolChoice.NONE, false, "<TOOLCALL>[get_weather(city='a')]</TOOLCALL>");
        assertEquals("<TOOLCALL>[get_weather(city='a')]</TOOLCALL>", none.content.toString());
        assertEquals(List.of(), none.calls);

        Recorder required = run(ToolChoice.REQUIRED, false, "no call");
        assertEquals("tool_choice required but the model called no tool", required.calls.getFirst().getError());
        assertFalse(required.calls.getFirst().hasCall());

        Recorder named = run(ToolChoice.named("other"), true, "<TOOLCALL>[get_weather(city='a')]</TOOLCALL>");
        assertEquals("tool_choice names 'other' but the model called 'get_weather'", named.calls.getFirst().getError());

        Recorder unknown = run(ToolChoice.AUTO, true, "<TOOLCALL>[nope()]</TOOLCALL>");
        assertEquals("unknown function 'nope' (not among the request's tools)", unknown.calls.getFirst().getError());
    }

    @Test
    void apiToolChoiceMapping() {
        var proto = io.nemotron.api.v1.ToolChoice.newBuilder();
        assertEquals(ToolChoice.AUTO, ToolCallPipeline.toolChoice(proto.build(), true));
        assertEquals(ToolChoice.NONE, ToolCallPipeline.toolChoice(proto.build(), false));
        assertEquals(ToolChoice.REQUIRED, ToolCallPipeline.toolChoice(
                proto.setMode(io.nemotron.api.v1.ToolChoice.Mode.REQUIRED).build(), true));
        assertEquals(ToolChoice.named("f"), ToolCallPipeline.toolChoice(
                proto.setMode(io.nemotron.api.v1.ToolChoice.Mode.NAMED).setName("f").build(), true));
    }
}
