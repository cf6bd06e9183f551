package io.nemotron.core.chat;

import io.nemotron.core.chat.jinja.Strings;
import java.util.List;
import java.util.Map;

/**
 * The Llama-3.1 header format, for checkpoints without a chat template:
 * {@code <bos><|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>...}, contents trimmed, ending with
 * an open assistant header when asked. The Llama-Nemotron variant is the same format with Ultra's default system
 * message {@code detailed thinking on} when the conversation has none; the plain Llama variant then writes no
 * system turn. Tools are folded in by the prompt builder, the Llama-Nemotron way.
 */
public final class BuiltinLlamaFormat implements ChatFormat {
    public static final String BEGIN_OF_TEXT = "<|begin_of_text|>";
    public static final String EOT = "<|eot_id|>";

    private final String bosToken;
    private final String eotToken;
    private final boolean nemotron;

    private BuiltinLlamaFormat(String bosToken, String eotToken, boolean nemotron) {
        this.bosToken = bosToken;
        this.eotToken = eotToken;
        this.nemotron = nemotron;
    }

    public static BuiltinLlamaFormat nemotron(String bosToken, String eotToken) {
        return new BuiltinLlamaFormat(bosToken, eotToken, true);
    }

    public static BuiltinLlamaFormat llama(String bosToken, String eotToken) {
        return new BuiltinLlamaFormat(bosToken, eotToken, false);
    }

    @Override
    public String render(List<Map<String, Object>> messages, List<Map<String, Object>> tools, boolean addGenerationPrompt) {
        StringBuilder out = new StringBuilder(bosToken);
        boolean hasSystem = !messages.isEmpty() && "system".equals(messages.getFirst().get("role"));
        if (!hasSystem && nemotron) {
            turn(out, "system", "detailed thinking on");
        }
        for (Map<String, Object> m : messages) {
            turn(out, (String) m.get("role"), Strings.strip((String) m.get("content"), null));
        }
        if (addGenerationPrompt) {
            out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
        return out.toString();
    }

    private void turn(StringBuilder out, String role, String content) {
        out.append("<|start_header_id|>").append(role).append("<|end_header_id|>\n\n").append(content).append(eotToken);
    }

    @Override
    public boolean handlesTools() {
        return false;
    }

    @Override
    public boolean stripsReasoning() {
        return false;
    }

    @Override
    public ThinkingSwitch thinkingSwitch() {
        return new ThinkingSwitch(ThinkingSwitch.Style.SYSTEM_LINE, nemotron ? Thinking.ON : null);
    }
}
