package io.nemotron.core.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sortKeys)}, which is what HF's
 * {@code tojson} filter calls: {@code ", "} and {@code ": "} separators, or {@code ","} plus newlines when
 * indented; non-ASCII text is written as is; only control characters, quote and backslash are escaped.
 */
public final class PyJson {
    private PyJson() {}

    /** Compact form as used in prompts: {@code {"a": 1, "b": [true, null]}}. */
    public static String dumps(Object value) {
        return dumps(value, -1, false);
    }

    /** {@code indent < 0} means no indent (single line). */
    public static String dumps(Object value, int indent, boolean sortKeys) {
        StringBuilder out = new StringBuilder();
        write(value, indent, sortKeys, 0, out);
        return out.toString();
    }

    private static void write(Object v, int indent, boolean sortKeys, int level, StringBuilder out) {
        switch (v) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Long l -> out.append(l);
            case Double d -> out.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
                    : Values.formatFloat(d));
            case String s -> string(s, out);
            case List<?> list -> {
                if (list.isEmpty()) {
                    out.append("[]");
                    return;
                }
                out.append('[');
                for (int i = 0; i < list.size(); i++) {
                    separator(i == 0, indent, level + 1, out);
                    write(list.get(i), indent, sortKeys, level + 1, out);
                }
                close(']', indent, level, out);
            }
            case Map<?, ?> map -> {
                if (map.isEmpty()) {
                    out.append("{}");
                    return;
                }
                List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
                if (sortKeys) {
                    entries.sort((x, y) -> Values.compare(x.getKey(), y.getKey()));
                }
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : entries) {
                    separator(first, indent, level + 1, out);
                    first = false;
                    string(key(e.getKey()), out);
                    out.append(": ");
                    write(e.getValue(), indent, sortKeys, level + 1, out);
                }
                close('}', indent, level, out);
            }
            default -> throw new TemplateException("Object of type " + Values.typeName(v) + " is not JSON serializable");
        }
    }

    private static void separator(boolean first, int indent, int level, StringBuilder out) {
        if (indent < 0) {
            out.append(first ? "" : ", ");
        } else {
            out.append(first ? "" : ",").append('\n').append(" ".repeat(indent * level));
        }
    }

    private static void close(char bracket, int indent, int level, StringBuilder out) {
        if (indent >= 0) {
            out.append('\n').append(" ".repeat(indent * level));
        }
        out.append(bracket);
    }

    /** json.dumps turns non-string keys into strings the JSON way (True -> "true"). */
    private static String key(Object k) {
        return switch (k) {
            case String s -> s;
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Long l -> l.toString();
            case Double d -> Values.formatFloat(d);
            default -> throw new TemplateException("keys must be str, int, float, bool or None, not " + Values.typeName(k));
        };
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
