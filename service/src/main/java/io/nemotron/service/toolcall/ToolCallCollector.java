package io.nemotron.service.toolcall;

import java.util.ArrayList;
import java.util.List;

/** A listener that gathers a whole output's events into one {@link ToolCallParseResult}. */
public final class ToolCallCollector implements ToolCallListener {
    private final StringBuilder content = new StringBuilder();
    private final List<ToolCallBlock> blocks = new ArrayList<>();
    private final List<String> errors = new ArrayList<>();

    @Override
    public void content(String text) {
        content.append(text);
    }

    @Override
    public void block(ToolCallBlock block) {
        blocks.add(block);
    }

    @Override
    public void error(String message) {
        errors.add(message);
    }

    public ToolCallParseResult result() {
        return new ToolCallParseResult(content.toString(), blocks, errors);
    }
}
