package io.nemotron.core.chat.jinja;

import java.util.ArrayList;
import java.util.List;

/** Python {@code str} semantics that templates rely on: whitespace, strip, split, escapes in literals. Also used by the built-in prompt format, which must trim exactly as templates do. */
public final class Strings {
    private Strings() {}

    /** Python's {@code str.isspace()} for one char (Java's isWhitespace misses no-break spaces and U+0085). */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    public static String strip(String s, String chars) {
        return lstrip(rstrip(s, chars), chars);
    }

    public static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && stripped(s.charAt(i), chars)) {
            i++;
        }
        return s.substring(i);
    }

    public static String rstrip(String s, String chars) {
        int i = s.length();
        while (i > 0 && stripped(s.charAt(i - 1), chars)) {
            i--;
        }
        return s.substring(0, i);
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    /** {@code str.split(sep, maxsplit)}; {@code sep == null} splits on whitespace runs and drops empty parts. */
    static List<Object> split(String s, String sep, long maxSplit) {
        List<Object> parts = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            while (true) {
                while (i < s.length() && isSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= s.length()) {
                    break;
                }
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(rstrip(s.substring(i), null));
                    break;
                }
                int start = i;
                while (i < s.length() && !isSpace(s.charAt(i))) {
                    i++;
                }
                parts.add(s.substring(start, i));
            }
            return parts;
        }
        if (sep.isEmpty()) {
            throw new TemplateException("split(): empty separator");
        }
        int start = 0;
        while (maxSplit < 0 || parts.size() < maxSplit) {
            int at = s.indexOf(sep, start);
            if (at < 0) {
                break;
            }
            parts.add(s.substring(start, at));
            start = at + sep.length();
        }
        parts.add(s.substring(start));
        return parts;
    }

    /** {@code str.replace(old, new, count)}; an empty {@code old} inserts between characters as Python does. */
    static String replace(String s, String old, String replacement, long count) {
        if (count < 0) {
            count = Long.MAX_VALUE;
        }
        StringBuilder out = new StringBuilder();
        if (old.isEmpty()) {
            long done = 0;
            for (int i = 0; i <= s.length(); i++) {
                if (done < count) {
                    out.append(replacement);
                    done++;
                }
                if (i < s.length()) {
                    out.append(s.charAt(i));
                }
            }
            return out.toString();
        }
        int start = 0;
        long done = 0;
        while (done < count) {
            int at = s.indexOf(old, start);
            if (at < 0) {
                break;
            }
            out.append(s, start, at).append(replacement);
            start = at + old.length();
            done++;
        }
        return out.append(s.substring(start)).toString();
    }

    /**
     * Decodes one backslash escape of a string literal; {@code at} is just past the backslash. jinja2 decodes
     * literals with Python's unicode-escape codec, so unknown escapes keep their backslash.
     */
    static int unescape(String src, int at, StringBuilder out) {
        char c = src.charAt(at);
        switch (c) {
            case 'n' -> out.append('\n');
            case 't' -> out.append('\t');
            case 'r' -> out.append('\r');
            case '\\' -> out.append('\\');
            case '\'' -> out.append('\'');
            case '"' -> out.append('"');
            case 'a' -> out.append('\u0007');
            case 'b' -> out.append('\b');
            case 'f' -> out.append('\f');
            case 'v' -> out.append('\u000b');
            case '\n' -> { } // backslash-newline is a line continuation
            case 'x' -> { return hex(src, at + 1, 2, out); }
            case 'u' -> { return hex(src, at + 1, 4, out); }
            case 'U' -> { return hex(src, at + 1, 8, out); }
            default -> {
                if (c >= '0' && c <= '7') {
                    int end = at;
                    while (end < src.length() && end < at + 3 && src.charAt(end) >= '0' && src.charAt(end) <= '7') {
                        end++;
                    }
                    out.appendCodePoint(Integer.parseInt(src.substring(at, end), 8));
                    return end;
                }
                out.append('\\').append(c);
            }
        }
        return at + 1;
    }

    private static int hex(String src, int from, int digits, StringBuilder out) {
        if (from + digits > src.length()) {
            throw new TemplateException("truncated \\x/\\u escape in string literal");
        }
        try {
            out.appendCodePoint(Integer.parseInt(src.substring(from, from + digits), 16));
        } catch (IllegalArgumentException e) {
            throw new TemplateException("bad escape in string literal: " + src.substring(from - 2, from + digits));
        }
        return from + digits;
    }
}
