package io.nemotron.service.toolcall;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Issue 18, must-show 4: {@code </TOOLCALL>}, {@code <TOOLCALL>} and brackets inside string arguments do not end or
 * confuse a block, in the JSON and the Python form, whether the output is parsed in one piece or streamed split at
 * every position. The expected calls are written out by hand.
 */
class ToolCallQuotedTagsTest {
    private static final ToolCallValidator SYNTAX = ToolCallValidator.syntaxOnly();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private record Case(String output, String content, List<String> names, List<Map<String, Object>> arguments) {}

    private static final List<Case> CASES = List.of(
            new Case("Sure. <TOOLCALL>[{\"name\": \"send\", \"arguments\": {\"body\": \"ends with </TOOLCALL> then"
                    + " [x] {y} <TOOLCALL> ]\", \"n\": 1}}]</TOOLCALL> after",
                    "Sure.  after", List.of("send"),
                    List.of(Map.of("body", "ends with </TOOLCALL> then [x] {y} <TOOLCALL> ]", "n", 1))),
            new Case("<TOOLCALL>[{\"name\": \"q\", \"arguments\": {\"s\": \"a \\\" </TOOLCALL> \\\\\"}}]</TOOLCALL>",
                    "", List.of("q"), List.of(Map.of("s", "a \" </TOOLCALL> \\"))),
            new Case("x<TOOLCALL>[send(body='quote </TOOLCALL> and ] ) [', note=\"it's <TOOLCALL>\")]</TOOLCALL>tail",
                    "xtail", List.of("send"),
                    List.of(Map.of("body", "quote </TOOLCALL> and ] ) [", "note", "it's <TOOLCALL>"))),
            new Case("<TOOLCALL>[f(s='it\\'s </TOOLCALL>', t='''a ' </TOOLCALL> '' b'''), g(u=\"\")]</TOOLCALL>",
                    "", List.of("f", "g"),
                    List.of(Map.of("s", "it's </TOOLCALL>", "t", "a ' </TOOLCALL> '' b"), Map.of("u", ""))),
            new Case("<TOOLCALL>[a(x='</TOOLCALL>')]</TOOLCALL> mid <TOOLCALL>[{\"name\": \"b\", \"arguments\":"
                    + " {\"y\": \"[</TOOLCALL>]\"}}]</TOOLCALL>",
                    " mid ", List.of("a", "b"), List.of(Map.of("x", "</TOOLCALL>"), Map.of("y", "[</TOOLCALL>]"))));

    @Test
    void onePieceParsingKeepsQuotedTagsInsideTheirArguments() {
        for (Case c : CASES) {
            ToolCallParseResult r = ToolCallStreamParser.parse(c.output(), SYNTAX);
            assertEquals(List.of(), r.errors(), c.output());
            assertEquals(c.content(), r.content(), c.output());
            assertEquals(c.names(), r.calls().stream().map(ParsedToolCall::name).toList(), c.output());
            for (int i = 0; i < c.arguments().size(); i++) {
                ObjectNode expected = JSON.valueToTree(c.arguments().get(i));
                assertEquals(expected, r.calls().get(i).arguments(), c.output());
            }
        }
    }

    @Test
    void streamingSplitAtEveryPositionEqualsTheOnePieceParse() {
        for (Case c : CASES) {
            String text = c.output();
            List<Object> whole = RecordingListener.feed(SYNTAX, text).events;
            for (int i = 0; i <= text.length(); i++) {
                assertEquals(whole, RecordingListener.feed(SYNTAX, text.substring(0, i), text.substring(i)).events,
                        "split at " + i + " of " + text);
            }
            assertEquals(whole, RecordingListener.feed(SYNTAX, text.split("")).events, "char by char: " + text);
        }
    }

    @Test
    void anUnterminatedQuoteEndsAtTheLineSoTheOutputAfterItIsNotSwallowed() {
        String text = "<TOOLCALL>[f(a='oops)]</TOOLCALL>\nlater text";
        ToolCallParseResult r = ToolCallStreamParser.parse(text, SYNTAX);
        // the stray quote makes the block unreadable; it runs to the closing tag after the line and is kept as content
        assertEquals(List.of(), r.calls());
        assertEquals(text, r.content());
        assertEquals(1, r.errors().size(), r.errors().toString());
    }
}
