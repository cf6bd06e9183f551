package io.nemotron.core.chat;

import io.nemotron.core.chat.jinja.PyJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Llama-Nemotron tool convention (as Super-49B-v1.5's template writes it), for chat formats without a tools
 * branch: the tools block that closes the system message, assistant calls as {@code <TOOLCALL>[...]</TOOLCALL>}
 * after the assistant's text, and each run of consecutive tool results merged into one tool turn
 * {@code <TOOL_RESPONSE>[r1, r2]</TOOL_RESPONSE>}.
 */
final class NemotronToolFormat {
    private NemotronToolFormat() {}

    /** The system text the v1.5 template writes for {@code tools} after the user's (non-empty) system text. */
    static String systemBlock(String userSystem, List<Map<String, Object>> tools) {
        StringBuilder out = new StringBuilder();
        if (userSystem != null && !userSystem.isEmpty()) {
            out.append(userSystem).append("\n\n");
        }
        out.append("You can use the following tools to assist the user if required:\n<AVAILABLE_TOOLS>[");
        for (int i = 0; i < tools.size(); i++) {
            Map<String, Object> tool = tools.get(i);
            Object definition = tool.containsKey("function") ? tool.get("function") : tool;
            out.append(i > 0 ? ", " : "").append(PyJson.dumps(definition));
        }
        // NOTE: the doubled braces are literal: the v1.5 template prints them as is
        out.append("]</AVAILABLE_TOOLS>\n\n"
                + "If you decide to call any tool(s), use the following format:\n"
                + "<TOOLCALL>[{{\"name\": \"tool_name1\", \"arguments\": \"tool_args1\"}}, "
                + "{{\"name\": \"tool_name2\", \"arguments\": \"tool_args2\"}}]</TOOLCALL>\n\n"
                + "Response from tool(s) will be returned in this format:\n"
                + "<TOOL_RESPONSE>[{{\"response\": \"tool_response1\"}}, {{\"response\": \"tool_response2\"}}]</TOOL_RESPONSE>\n\n"
                + "Based on the results returned by the tool(s), you can call additional tools if needed, correct tool "
                + "calls if any errors are found, or just respond with the answer to the user.");
        return out.toString();
    }

    /** Assistant text followed by its calls; arguments given as a string are written verbatim, objects as JSON. */
    static String assistantContent(String content, List<Map<String, Object>> toolCalls) {
        if (toolCalls.isEmpty()) {
            return content;
        }
        StringBuilder out = new StringBuilder(content).append("<TOOLCALL>[");
        for (int i = 0; i < toolCalls.size(); i++) {
            Map<String, Object> call = toolCalls.get(i);
            @SuppressWarnings("unchecked")
            Map<String, Object> fn = call.get("function") instanceof Map<?, ?> f ? (Map<String, Object>) f : call;
            Object args = fn.getOrDefault("arguments", Map.of());
            out.append(i > 0 ? ", " : "").append("{\"name\": \"").append(fn.get("name")).append("\", \"arguments\": ")
                    .append(args instanceof String s ? s : PyJson.dumps(args)).append('}');
        }
        return out.append("]</TOOLCALL>").toString();
    }

    /** Replaces each run of consecutive tool messages with one tool message holding their merged responses. */
    static List<ChatMessage> mergeToolResults(List<ChatMessage> messages) {
        List<ChatMessage> out = new ArrayList<>();
        List<String> run = new ArrayList<>();
        for (ChatMessage m : messages) {
            if (m.role() == Role.TOOL) {
                run.add(m.content());
                continue;
            }
            flush(run, out);
            out.add(m);
        }
        flush(run, out);
        return out;
    }

    private static void flush(List<String> run, List<ChatMessage> out) {
        if (!run.isEmpty()) {
            out.add(ChatMessage.of(Role.TOOL, "<TOOL_RESPONSE>[" + String.join(", ", run) + "]</TOOL_RESPONSE>"));
            run.clear();
        }
    }
}
