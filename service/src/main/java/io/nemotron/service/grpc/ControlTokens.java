package io.nemotron.service.grpc;

import io.nemotron.core.engine.InvalidRequestException;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.ListValue;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Refuses Chat requests whose text carries the tokenizer's control tokens ({@code <|eot_id|>},
 * {@code <|start_header_id|>}, ...). The rendered prompt is tokenized with special tokens recognised, so such a string
 * in a message, a tool or a document would become a real control token: a user could close its own turn and open a
 * system one (prompt injection through the template). Refused as INVALID_ARGUMENT naming the field, never silently
 * altered; a client that means to send raw control tokens uses {@code Generate}, which takes a raw prompt.
 */
final class ControlTokens {
    /** Special tokens by their first two characters: a scan looks only where one could start. */
    private final Map<Integer, List<String>> byPrefix = new HashMap<>();
    private final List<String> oneChar = new ArrayList<>();

    private ControlTokens(Tokenizer tokenizer) {
        for (int id : tokenizer.specialTokenIds()) {
            String s = tokenizer.token(id);
            if (s == null || s.isEmpty()) {
                continue;
            }
            if (s.length() == 1) {
                oneChar.add(s);
            } else {
                byPrefix.computeIfAbsent(pair(s, 0), k -> new ArrayList<>()).add(s);
            }
        }
    }

    static ControlTokens of(Tokenizer tokenizer) {
        return new ControlTokens(tokenizer);
    }

    /** Checks every string of the request's messages, tools and documents. */
    void check(ChatRequest request) {
        for (int i = 0; i < request.getMessagesCount(); i++) {
            walk(request.getMessages(i), "messages[" + i + "]");
        }
        for (int i = 0; i < request.getToolsCount(); i++) {
            walk(request.getTools(i), "tools[" + i + "]");
        }
        for (int i = 0; i < request.getDocumentsCount(); i++) {
            walk(request.getDocuments(i), "documents[" + i + "]");
        }
    }

    /** The first control token in {@code text}, or null. */
    String find(String text) {
        for (String s : oneChar) {
            if (text.contains(s)) {
                return s;
            }
        }
        for (int i = 0; i + 1 < text.length(); i++) {
            List<String> candidates = byPrefix.get(pair(text, i));
            if (candidates != null) {
                for (String s : candidates) {
                    if (text.startsWith(s, i)) {
                        return s;
                    }
                }
            }
        }
        return null;
    }

    /** Two chars as one key, without a substring per position. */
    private static int pair(String s, int i) {
        return s.charAt(i) << 16 | s.charAt(i + 1);
    }

    private void walk(Message m, String path) {
        if (m instanceof Struct s) {
            s.getFieldsMap().forEach((k, v) -> {
                text(k, path + "." + k);
                value(v, path + "." + k);
            });
            return;
        }
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            String field = path + "." + f.getName();
            if (f.isRepeated()) {
                List<?> items = (List<?>) e.getValue();
                for (int i = 0; i < items.size(); i++) {
                    visit(f, items.get(i), field + "[" + i + "]");
                }
            } else {
                visit(f, e.getValue(), field);
            }
        }
    }

    private void visit(FieldDescriptor f, Object v, String path) {
        if (f.getJavaType() == FieldDescriptor.JavaType.STRING) {
            text((String) v, path);
        } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            walk((Message) v, path);
        }
    }

    private void value(Value v, String path) {
        switch (v.getKindCase()) {
            case STRING_VALUE -> text(v.getStringValue(), path);
            case STRUCT_VALUE -> walk(v.getStructValue(), path);
            case LIST_VALUE -> {
                ListValue list = v.getListValue();
                for (int i = 0; i < list.getValuesCount(); i++) {
                    value(list.getValues(i), path + "[" + i + "]");
                }
            }
            default -> { }
        }
    }

    private void text(String s, String path) {
        String token = find(s);
        if (token != null) {
            throw new InvalidRequestException(path + ": contains the control token " + token
                    + ", which the prompt would turn into a real one; send raw control tokens with Generate");
        }
    }
}
