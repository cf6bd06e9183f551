package io.nemotron.service.toolcall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Blocks, content around them, ids, malformed blocks, and deltas split anywhere. */
class ToolCallStreamParserTest {
    private static final ToolCallValidator SYNTAX = ToolCallValidator.syntaxOnly();

    @Test
    void contentBeforeBetweenAndAfterBlocks() {
        String text = "Let me check. <TOOLCALL>[f(a=1)]</TOOLCALL> and <TOOLCALL>[{\"name\":\"g\",\"arguments\":{}},"
                + " {\"name\":\"h\",\"arguments\":{\"x\":\"y\"}}]</TOOLCALL> done.";
        ToolCallParseResult result = ToolCallStreamParser.parse(text, SYNTAX);
        assertEquals("Let me check.  and  done.", result.content());
        assertEquals(List.of(), result.errors());
        assertEquals(2, result.blocks().size());
        assertEquals("<TOOLCALL>[f(a=1)]</TOOLCALL>", result.blocks().get(0).rawText());
        assertEquals(List.of("call_0", "call_1", "call_2"), result.calls().stream().map(ParsedToolCall::id).toList());
        assertEquals(List.of("f", "g", "h"), result.calls().stream().map(ParsedToolCall::name).toList());
    }

    @Test
    void idsStartAtZeroForEveryParser() {
        String text = "<TOOLCALL>[f(), g()]</TOOLCALL>";
        for (int run = 0; run < 2; run++) {
            assertEquals(List.of("call_0", "call_1"),
                    ToolCallStreamParser.parse(text, SYNTAX).calls().stream().map(ParsedToolCall::id).toList());
        }
    }

    @Test
    void everySplitOfATagGivesTheSameEventsAndNoMarkupInContent() {
        String text = "ab<TOOLCALL>[f(a='<x>', b=[1, 2])]</TOOLCALL>c<TOOLCAL<TOOLCALL>[g()]</TOOLCALL><TOOL";
        List<Object> whole = RecordingListener.feed(SYNTAX, text).events;
        assertEquals("ab", whole.get(0));
        assertInstanceOf(ToolCallBlock.class, whole.get(1));
        assertEquals("c<TOOLCAL", whole.get(2));
        assertInstanceOf(ToolCallBlock.class, whole.get(3));
        assertEquals("<TOOL", whole.get(4), "a held-back tag prefix is content at the end");
        for (int i = 0; i <= text.length(); i++) {
            for (int j = i; j <= text.length(); j++) {
                RecordingListener split = RecordingListener.feed(SYNTAX, text.substring(0, i), text.substring(i, j),
                        text.substring(j));
                assertEquals(whole, split.events, "split at " + i + "," + j);
            }
        }
        RecordingListener byChar = RecordingListener.feed(SYNTAX, text.split(""));
        assertEquals(whole, byChar.events);
        for (String delta : byChar.contentDeltas) {
            assertFalse(delta.contains("<TOOLCALL"), delta);
        }
    }

    @Test
    void aTagPrefixIsHeldBackOnlyUntilItCannotBeATag() {
        RecordingListener listener = new RecordingListener();
        ToolCallStreamParser parser = new ToolCallStreamParser(SYNTAX, listener);
        parser.accept("Hello <TOOL");
        assertEquals(List.of("Hello "), listener.contentDeltas);
        parser.accept("S are here");
        assertEquals(List.of("Hello ", "<TOOLS are here"), listener.contentDeltas);
        parser.accept(" <");
        parser.accept("TOOLCALL>[f()");
        assertEquals(List.of("Hello ", "<TOOLS are here", " "), listener.contentDeltas);
        parser.accept("]</TOOLCALL");
        assertFalse(listener.events.getLast() instanceof ToolCallBlock, "the closing tag is not complete yet");
        parser.accept(">");
        assertInstanceOf(ToolCallBlock.class, listener.events.getLast());
        assertTrue(parser.finish());
    }

    @Test
    void malformedBlockBecomesContentWithAnError() {
        String text = "x<TOOLCALL>[f(a=)]</TOOLCALL>y<TOOLCALL>[g()]</TOOLCALL>";
        ToolCallParseResult result = ToolCallStreamParser.parse(text, SYNTAX);
        assertEquals("x<TOOLCALL>[f(a=)]</TOOLCALL>y", result.content());
        assertEquals(1, result.errors().size());
        assertTrue(result.errors().getFirst().startsWith("malformed <TOOLCALL> block at character 1 "),
                result.errors().getFirst());
        assertEquals(List.of("call_0"), result.calls().stream().map(ParsedToolCall::id).toList(),
                "a rejected block takes no id");
    }

    @Test
    void unterminatedBlockAtTheEndIsContentWithAnError() {
        ToolCallParseResult result = ToolCallStreamParser.parse("ok <TOOLCALL>[f(a=1)]", SYNTAX);
        assertEquals("ok <TOOLCALL>[f(a=1)]", result.content());
        assertEquals(List.of(), result.blocks());
        assertTrue(result.errors().getFirst().contains("no </TOOLCALL> before the end"), result.errors().getFirst());
    }

    @Test
    void aClosingTagQuotedInAnArgumentDoesNotEndTheBlock() {
        // BFCL's decoder ends a block at the first closing tag; a quoted one is an argument's text (issue 18)
        ToolCallParseResult result = ToolCallStreamParser.parse("<TOOLCALL>[f(a='</TOOLCALL>')]</TOOLCALL>", SYNTAX);
        assertEquals("", result.content());
        assertEquals(List.of(), result.errors());
        assertEquals("</TOOLCALL>", result.calls().getFirst().arguments().get("a").asString());
    }

    @Test
    void strayClosingTagAndEmptyListAreHandled() {
        assertEquals("a</TOOLCALL>b", ToolCallStreamParser.parse("a</TOOLCALL>b", SYNTAX).content());
        ToolCallParseResult empty = ToolCallStreamParser.parse("<TOOLCALL>[]</TOOLCALL>", SYNTAX);
        assertEquals(1, empty.blocks().size());
        assertEquals(List.of(), empty.calls());
    }

    @Test
    void finishReportsWhetherCallsWereMadeAndIgnoresLaterInput() {
        RecordingListener listener = new RecordingListener();
        ToolCallStreamParser parser = new ToolCallStreamParser(SYNTAX, listener);
        parser.accept("<TOOLCALL>[f()]</TOOLCALL>");
        assertTrue(parser.finish());
        parser.accept("more");
        assertTrue(parser.finish());
        assertEquals(1, listener.events.size());
        assertFalse(ToolCallStreamParser.parse("plain", SYNTAX).blocks().size() > 0);
    }
}
