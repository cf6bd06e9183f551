package io.nemotron.service.toolcall;

import java.util.ArrayList;
import java.util.List;

/** Records every event in order; adjacent content pieces are merged so splits of the input compare equal. */
final class RecordingListener implements ToolCallListener {
    /** Content as String, blocks as ToolCallBlock, errors as Error. */
    final List<Object> events = new ArrayList<>();
    /** The content deltas exactly as they came, unmerged. */
    final List<String> contentDeltas = new ArrayList<>();

    record Error(String message) {}

    @Override
    public void content(String text) {
        contentDeltas.add(text);
        if (!events.isEmpty() && events.getLast() instanceof String previous) {
            events.set(events.size() - 1, previous + text);
        } else {
            events.add(text);
        }
    }

    @Override
    public void block(ToolCallBlock block) {
        events.add(block);
    }

    @Override
    public void error(String message) {
        events.add(new Error(message));
    }

    /** Content and the raw text of parsed blocks, in order: must be the whole input. */
    String reassembled() {
        StringBuilder out = new StringBuilder();
        for (Object e : events) {
            if (e instanceof String s) {
                out.append(s);
            } else if (e instanceof ToolCallBlock b) {
                out.append(b.rawText());
            }
        }
        return out.toString();
    }

    static RecordingListener feed(ToolCallValidator validator, String... chunks) {
        RecordingListener listener = new RecordingListener();
        ToolCallStreamParser parser = new ToolCallStreamParser(validator, listener);
        for (String chunk : chunks) {
            parser.accept(chunk);
        }
        parser.finish();
        return listener;
    }
}
