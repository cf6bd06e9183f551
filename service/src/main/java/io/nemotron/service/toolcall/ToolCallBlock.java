package io.nemotron.service.toolcall;

import java.util.List;

/**
 * One well-formed {@code <TOOLCALL>...</TOOLCALL>} block. NOTE: {@code rawText} is exactly the characters the block
 * took from the model's output (tags included), so content plus the raw text of every block gives back the output.
 */
public record ToolCallBlock(String rawText, List<ParsedToolCall> calls) {
    public ToolCallBlock {
        calls = List.copyOf(calls);
    }
}
