package io.nemotron.service.toolcall;

import java.util.List;

/**
 * Everything a whole output parsed into.
 *
 * @param content the answer text with the parsed blocks taken out (malformed blocks stay in it)
 * @param blocks  the parsed blocks in output order, each with its raw text
 * @param errors  malformed blocks and tool_choice breaches (per-call validation errors sit on the calls)
 */
public record ToolCallParseResult(String content, List<ToolCallBlock> blocks, List<String> errors) {
    public ToolCallParseResult {
        blocks = List.copyOf(blocks);
        errors = List.copyOf(errors);
    }

    public List<ParsedToolCall> calls() {
        return blocks.stream().flatMap(b -> b.calls().stream()).toList();
    }
}
