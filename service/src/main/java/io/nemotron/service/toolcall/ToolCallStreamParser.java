package io.nemotron.service.toolcall;

import io.nemotron.service.grpc.stream.TagPrefix;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits the model's text, fed as deltas split anywhere, into content and {@code <TOOLCALL>[...]</TOOLCALL>}
 * blocks. One instance per request; plain state, one thread.
 *
 * <p>NOTE: the invariants, which the tests check on random input:
 * <ul>
 *   <li>it never throws on any text (malformed blocks become content plus an error);</li>
 *   <li>content plus the raw text of the parsed blocks, in order, is exactly the input;</li>
 *   <li>content never carries a piece of a block that later parses: a suffix that could still grow into
 *       {@code <TOOLCALL>} is held back until the next delta or {@link #finish()};</li>
 *   <li>the events do not depend on how the text was split (content may arrive in other pieces).</li>
 * </ul>
 * A block ends at the first {@code </TOOLCALL>} after its opening tag that is not inside a quoted string argument
 * ({@link BlockCloseFinder}), so quoting the tag in an argument does not cut the call short.
 */
public final class ToolCallStreamParser {
    static final String OPEN = "<TOOLCALL>";
    static final String CLOSE = "</TOOLCALL>";

    private final ToolCallValidator validator;
    private final ToolCallListener listener;
    /** Outside a block: the held-back suffix. Inside: the block so far, from its opening tag. */
    private final StringBuilder pending = new StringBuilder();
    private boolean insideBlock;
    /** Inside a block: the scan for its closing tag, outside string literals, resumed with each delta. */
    private final BlockCloseFinder closeFinder = new BlockCloseFinder();
    /** Characters of input already given to the listener, to place errors in the output. */
    private long emittedChars;
    private int callCount;
    private boolean finished;

    public ToolCallStreamParser(ToolCallValidator validator, ToolCallListener listener) {
        this.validator = validator;
        this.listener = listener;
    }

    /** One-shot: the whole output as one delta, then {@link #finish()}. */
    public static ToolCallParseResult parse(String output, ToolCallValidator validator) {
        ToolCallCollector collector = new ToolCallCollector();
        ToolCallStreamParser parser = new ToolCallStreamParser(validator, collector);
        parser.accept(output);
        parser.finish();
        return collector.result();
    }

    public void accept(String delta) {
        if (finished || delta == null || delta.isEmpty()) {
            return;
        }
        if (validator.choice().mode() == ToolChoice.Mode.NONE) {
            emitContent(delta);
            return;
        }
        pending.append(delta);
        drain();
    }

    /** The generation ended: flush held-back text; an open block is malformed. Returns whether calls were made. */
    public boolean finish() {
        if (finished) {
            return callCount > 0;
        }
        finished = true;
        if (insideBlock) {
            String raw = pending.toString();
            rejectBlock(raw, "no " + CLOSE + " before the end of the output");
        } else {
            emitContent(pending.toString());
        }
        pending.setLength(0);
        validator.missingCallError(callCount).ifPresent(listener::error);
        return callCount > 0;
    }

    public int callCount() {
        return callCount;
    }

    private void drain() {
        while (true) {
            if (insideBlock) {
                int close = closeFinder.find(pending);
                if (close < 0) {
                    return;   // the next delta continues the block (or completes a tag or quote at its end)
                }
                int end = close + CLOSE.length();
                String raw = pending.substring(0, end);
                pending.delete(0, end);
                insideBlock = false;
                closeBlock(raw);
            } else {
                int open = pending.indexOf(OPEN);
                if (open >= 0) {
                    emitContent(pending.substring(0, open));
                    pending.delete(0, open);
                    insideBlock = true;
                    closeFinder.start(OPEN.length());
                    continue;
                }
                int release = pending.length() - TagPrefix.partialSuffix(pending, OPEN);
                emitContent(pending.substring(0, release));
                pending.delete(0, release);
                return;
            }
        }
    }

    private void closeBlock(String raw) {
        String body = raw.substring(OPEN.length(), raw.length() - CLOSE.length());
        List<FunctionCall> calls;
        try {
            calls = ToolCallBodyParser.parse(body);
        } catch (ToolCallSyntaxException e) {
            rejectBlock(raw, e.getMessage());
            return;
        } catch (RuntimeException e) {
            // NOTE: a safety net: model output must never fail the request, whatever a parser missed
            rejectBlock(raw, "unreadable (" + e + ")");
            return;
        }
        List<ParsedToolCall> parsed = new ArrayList<>(calls.size());
        for (FunctionCall call : calls) {
            String id = "call_" + callCount++;
            parsed.add(new ParsedToolCall(id, call.name(), call.arguments(),
                    validator.validate(call.name(), call.arguments())));
        }
        emittedChars += raw.length();
        listener.block(new ToolCallBlock(raw, parsed));
    }

    private void rejectBlock(String raw, String why) {
        long at = emittedChars;
        emitContent(raw);
        listener.error("malformed " + OPEN + " block at character " + at + " of the output, kept as content: " + why);
    }

    private void emitContent(String text) {
        if (!text.isEmpty()) {
            emittedChars += text.length();
            listener.content(text);
        }
    }
}
