package io.nemotron.core.chat.jinja;

import io.nemotron.core.chat.jinja.Token.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text and tag tokens with the whitespace rules of Hugging Face's jinja2 environment:
 * {@code trim_blocks} (drop the first newline after a block or comment tag), {@code lstrip_blocks} (drop
 * spaces and tabs from the start of a line up to a block or comment tag), {@code -} on either side of a tag
 * (drop all whitespace on that side), {@code +} (keep it), and one trailing newline of the source is dropped
 * ({@code keep_trailing_newline=False}).
 */
final class Lexer {
    private static final String[] OPERATORS = {
        "//", "**", "==", "!=", "<=", ">=",
        "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|",
    };

    private final String src;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private int line = 1;
    // NOTE: jinja2 lstrips text before a tag only when that text starts a line: after a newline inside it, or
    // when the previous token ended with one (the template start counts as a line start).
    private boolean lineStarting = true;

    private Lexer(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        this.src = s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    static List<Token> tokenize(String source) {
        Lexer lexer = new Lexer(source);
        lexer.run();
        return lexer.tokens;
    }

    private void run() {
        while (pos < src.length()) {
            int tag = nextTagStart(pos);
            if (tag < 0) {
                emitText(src.substring(pos));
                pos = src.length();
                break;
            }
            char type = src.charAt(tag + 1);
            char sign = tag + 2 < src.length() ? src.charAt(tag + 2) : ' ';
            String text = src.substring(pos, tag);
            if (sign == '-') {
                text = Strings.rstrip(text, null);
            } else if (sign != '+' && type != '{') {
                int lineStart = text.lastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && onlySpacesAndTabs(text, lineStart)) {
                    text = text.substring(0, lineStart);
                }
            }
            emitText(text);
            line += count(src, pos, tag);
            pos = tag + 2 + (sign == '-' || (sign == '+' && type != '{') ? 1 : 0);
            switch (type) {
                case '#' -> comment();
                case '{' -> tag(Kind.VAR_BEGIN, Kind.VAR_END, '}');
                default -> tag(Kind.BLOCK_BEGIN, Kind.BLOCK_END, '%');
            }
        }
        tokens.add(new Token(Kind.EOF, "", null, line));
    }

    private int nextTagStart(int from) {
        for (int i = from; i + 1 < src.length(); i++) {
            if (src.charAt(i) == '{') {
                char c = src.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') {
                    return i;
                }
            }
        }
        return -1;
    }

    private void comment() {
        int end = src.indexOf("#}", pos);
        if (end < 0) {
            throw new TemplateException("line " + line + ": unclosed comment");
        }
        boolean strip = end > pos && src.charAt(end - 1) == '-';
        boolean keep = end > pos && src.charAt(end - 1) == '+';
        line += count(src, pos, end);
        pos = end + 2;
        afterTagEnd(strip, keep, true);
    }

    /** Tokens inside {{ }} or {% %}; an end delimiter counts only outside brackets, as in jinja2's lexer. */
    private void tag(Kind begin, Kind end, char closer) {
        tokens.add(new Token(begin, "", null, line));
        int depth = 0;
        while (true) {
            skipSpaces();
            if (pos >= src.length()) {
                throw new TemplateException("line " + line + ": unclosed tag");
            }
            if (depth == 0) {
                int endLen = endDelimiter(closer);
                if (endLen > 0) {
                    boolean strip = src.charAt(pos) == '-';
                    boolean keep = src.charAt(pos) == '+';
                    pos += endLen;
                    tokens.add(new Token(end, "", null, line));
                    afterTagEnd(strip, keep, end == Kind.BLOCK_END);
                    return;
                }
            }
            char c = src.charAt(pos);
            if (c == '\'' || c == '"') {
                string(c);
            } else if (Character.isDigit(c)) {
                number();
            } else if (Character.isLetter(c) || c == '_') {
                int start = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                tokens.add(new Token(Kind.NAME, src.substring(start, pos), null, line));
            } else {
                String op = operator();
                depth += switch (op) {
                    case "(", "[", "{" -> 1;
                    case ")", "]", "}" -> -1;
                    default -> 0;
                };
                tokens.add(new Token(Kind.OPERATOR, op, null, line));
            }
        }
    }

    /** Length of the end delimiter at pos ({@code %}}, {@code -%}}, {@code +%}}), or 0. */
    private int endDelimiter(char closer) {
        String plain = closer + "}";
        if (src.startsWith(plain, pos)) {
            return 2;
        }
        if ((src.startsWith("-", pos) || src.startsWith("+", pos)) && src.startsWith(plain, pos + 1)) {
            return 3;
        }
        return 0;
    }

    private void afterTagEnd(boolean strip, boolean keep, boolean isBlockOrComment) {
        int start = pos;
        if (strip) {
            while (pos < src.length() && Strings.isSpace(src.charAt(pos))) {
                pos++;
            }
        } else if (isBlockOrComment && !keep && pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
        }
        line += count(src, start, pos);
        lineStarting = pos > start && src.charAt(pos - 1) == '\n';
    }

    private void string(char quote) {
        int startLine = line;
        StringBuilder out = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= src.length()) {
                throw new TemplateException("line " + startLine + ": unterminated string literal");
            }
            char c = src.charAt(pos++);
            if (c == quote) {
                break;
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\' || pos >= src.length()) {
                out.append(c);
                continue;
            }
            pos = Strings.unescape(src, pos, out);
        }
        tokens.add(new Token(Kind.STRING, out.toString(), out.toString(), startLine));
    }

    private void number() {
        int start = pos;
        while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
            pos++;
        }
        boolean isFloat = false;
        if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            isFloat = true;
            pos++;
            while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                pos++;
            }
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int save = pos++;
            if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
                pos++;
            }
            if (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                isFloat = true;
                while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                    pos++;
                }
            } else {
                pos = save;
            }
        }
        String text = src.substring(start, pos).replace("_", "");
        Object value = isFloat ? (Object) Double.parseDouble(text) : (Object) Long.parseLong(text);
        tokens.add(new Token(isFloat ? Kind.FLOAT : Kind.INTEGER, text, value, line));
    }

    private String operator() {
        for (String op : OPERATORS) {
            if (src.startsWith(op, pos)) {
                pos += op.length();
                return op;
            }
        }
        throw new TemplateException("line " + line + ": unexpected character '" + src.charAt(pos) + "'");
    }

    private void skipSpaces() {
        while (pos < src.length() && Strings.isSpace(src.charAt(pos))) {
            if (src.charAt(pos) == '\n') {
                line++;
            }
            pos++;
        }
    }

    private void emitText(String text) {
        if (!text.isEmpty()) {
            tokens.add(new Token(Kind.TEXT, text, text, line));
        }
    }

    private static boolean onlySpacesAndTabs(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (s.charAt(i) != ' ' && s.charAt(i) != '\t') {
                return false;
            }
        }
        return true;
    }

    private static int count(String s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (s.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }
}
