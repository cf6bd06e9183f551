package io.nemotron.service.toolcall;

import java.math.BigInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A cursor over Python source that reads literal values the way {@code ast.literal_eval} would, into JSON nodes
 * with exact types: int to Int/Long/BigInteger nodes (the node Jackson would pick for the same digits), float to
 * DoubleNode, True/False to BooleanNode, None to NullNode, list and tuple to ArrayNode, dict to ObjectNode. Only the
 * subset BFCL's decoder accepts for Nemotron is needed; anything else is a {@link ToolCallSyntaxException}.
 */
final class PythonLiteralParser {
    /** Deep enough for any real argument, shallow enough that recursion cannot overflow the stack. */
    private static final int MAX_DEPTH = 200;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final BigInteger INT_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
    private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private final String text;
    private int pos;

    PythonLiteralParser(String text) {
        this.text = text;
    }

    // ---- cursor, shared with PythonCallListParser ----

    boolean atEnd() {
        skipSpace();
        return pos >= text.length();
    }

    /** The next non-space character, or 0 at the end. */
    char peek() {
        skipSpace();
        return pos < text.length() ? text.charAt(pos) : 0;
    }

    boolean tryConsume(char c) {
        if (peek() == c) {
            pos++;
            return true;
        }
        return false;
    }

    void expect(char c, String what) {
        if (!tryConsume(c)) {
            throw error("expected '" + c + "' " + what);
        }
    }

    ToolCallSyntaxException error(String message) {
        String found = pos >= text.length() ? "end of input" : "'" + text.charAt(pos) + "'";
        return new ToolCallSyntaxException(message + " at character " + pos + " (found " + found + ")");
    }

    /** A Python identifier, or null when none starts here. */
    String identifier() {
        skipSpace();
        int start = pos;
        if (pos < text.length() && isIdentifierStart(text.charAt(pos))) {
            pos++;
            while (pos < text.length() && isIdentifierPart(text.charAt(pos))) {
                pos++;
            }
        }
        return pos > start ? text.substring(start, pos) : null;
    }

    /** Whitespace, line continuations and comments separate tokens inside brackets. */
    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
                pos++;
            } else if (c == '\\' && pos + 1 < text.length() && text.charAt(pos + 1) == '\n') {
                pos += 2;
            } else if (c == '#') {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    pos++;
                }
            } else {
                return;
            }
        }
    }

    private static boolean isIdentifierStart(char c) {
        return c == '_' || Character.isLetter(c);
    }

    private static boolean isIdentifierPart(char c) {
        return c == '_' || Character.isLetterOrDigit(c);
    }

    // ---- values ----

    JsonNode value() {
        return value(0);
    }

    private JsonNode value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("values nested deeper than " + MAX_DEPTH);
        }
        char c = peek();
        if (c == '"' || c == '\'') {
            return NODES.stringNode(strings(false));
        }
        if (c == '[') {
            pos++;
            return sequence(']', depth);
        }
        if (c == '(') {
            pos++;
            return parenthesized(depth);
        }
        if (c == '{') {
            pos++;
            return dict(depth);
        }
        if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) {
            return number();
        }
        String name = identifier();
        if (name == null) {
            throw error("expected a value");
        }
        if (pos < text.length() && (text.charAt(pos) == '"' || text.charAt(pos) == '\'')) {
            return prefixedString(name);
        }
        return switch (name) {
            case "True" -> NODES.booleanNode(true);
            case "False" -> NODES.booleanNode(false);
            case "None" -> NODES.nullNode();
            default -> throw error("'" + name + "' is not a literal (names and expressions are not values)");
        };
    }

    private JsonNode prefixedString(String prefix) {
        return switch (prefix.toLowerCase()) {
            case "r" -> NODES.stringNode(strings(true));
            case "u" -> NODES.stringNode(strings(false));
            default -> throw error("string prefix '" + prefix + "' has no JSON value");
        };
    }

    /** [a, b] or the rest of a tuple; a trailing comma is allowed as in Python. */
    private ArrayNode sequence(char close, int depth) {
        ArrayNode array = NODES.arrayNode();
        while (!tryConsume(close)) {
            array.add(value(depth + 1));
            if (!tryConsume(',')) {
                expect(close, "to close the sequence");
                break;
            }
        }
        return array;
    }

    /** (x) is x; () and (x,) and (x, y) are tuples, which JSON spells as arrays. */
    private JsonNode parenthesized(int depth) {
        if (tryConsume(')')) {
            return NODES.arrayNode();
        }
        JsonNode first = value(depth + 1);
        if (tryConsume(')')) {
            return first;
        }
        expect(',', "or ')' after a parenthesized value");
        ArrayNode tuple = sequence(')', depth);
        tuple.insert(0, first);
        return tuple;
    }

    private ObjectNode dict(int depth) {
        ObjectNode object = NODES.objectNode();
        while (!tryConsume('}')) {
            char c = peek();
            if (c != '"' && c != '\'') {
                throw error("dict keys must be strings");
            }
            String key = strings(false);
            expect(':', "after a dict key");
            // Python keeps the last of repeated keys; so does this
            object.set(key, value(depth + 1));
            if (!tryConsume(',')) {
                expect('}', "to close the dict");
                break;
            }
        }
        return object;
    }

    // ---- numbers ----

    private JsonNode number() {
        boolean negative = false;
        while (peek() == '-' || peek() == '+') {
            negative ^= text.charAt(pos) == '-';
            pos++;
        }
        int start = pos;
        if (pos + 1 < text.length() && text.charAt(pos) == '0' && "xXoObB".indexOf(text.charAt(pos + 1)) >= 0) {
            return radixInteger(negative);
        }
        boolean isFloat = false;
        while (pos < text.length() && (isDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
            pos++;
        }
        if (pos < text.length() && text.charAt(pos) == '.') {
            isFloat = true;
            pos++;
            while (pos < text.length() && (isDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
                pos++;
            }
        }
        if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
            isFloat = true;
            pos++;
            if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) {
                pos++;
            }
            int exponentStart = pos;
            while (pos < text.length() && (isDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
                pos++;
            }
            if (pos == exponentStart) {
                throw error("exponent without digits");
            }
        }
        if (pos < text.length() && (isIdentifierPart(text.charAt(pos)) || text.charAt(pos) == '.')) {
            throw error("malformed number");
        }
        String literal = text.substring(start, pos);
        if (!validUnderscores(literal) || !startsWithDigits(literal)) {
            throw error("malformed number '" + literal + "'");
        }
        String digits = literal.replace("_", "");
        if (isFloat) {
            double d = Double.parseDouble(digits);
            return NODES.numberNode(negative ? -d : d);
        }
        if (digits.length() > 1 && digits.charAt(0) == '0' && !digits.chars().allMatch(ch -> ch == '0')) {
            throw error("leading zeros in an integer ('" + literal + "'; Python has no such literal)");
        }
        BigInteger value = new BigInteger(digits);
        return integer(negative ? value.negate() : value);
    }

    private JsonNode radixInteger(boolean negative) {
        char kind = Character.toLowerCase(text.charAt(pos + 1));
        int radix = kind == 'x' ? 16 : kind == 'o' ? 8 : 2;
        pos += 2;
        int start = pos;
        while (pos < text.length() && (Character.digit(text.charAt(pos), radix) >= 0 || text.charAt(pos) == '_')) {
            pos++;
        }
        String literal = text.substring(start, pos);
        if (pos < text.length() && isIdentifierPart(text.charAt(pos))) {
            throw error("malformed number");
        }
        String digits = literal.replace("_", "");
        if (digits.isEmpty() || literal.endsWith("_") || literal.contains("__")) {
            throw error("malformed number");
        }
        BigInteger value = new BigInteger(digits, radix);
        return integer(negative ? value.negate() : value);
    }

    /** Python allows single underscores between digits only. */
    private static boolean validUnderscores(String literal) {
        for (int i = 0; i < literal.length(); i++) {
            if (literal.charAt(i) == '_') {
                boolean digitBefore = i > 0 && isDigit(literal.charAt(i - 1));
                boolean digitAfter = i + 1 < literal.length() && isDigit(literal.charAt(i + 1));
                if (!digitBefore || !digitAfter) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The mantissa needs a digit: "1.", ".5" and "1e3" are numbers, "." and ".e3" are not. */
    private static boolean startsWithDigits(String literal) {
        int mantissaEnd = literal.length();
        for (int i = 0; i < literal.length(); i++) {
            if (literal.charAt(i) == 'e' || literal.charAt(i) == 'E') {
                mantissaEnd = i;
                break;
            }
        }
        return literal.substring(0, mantissaEnd).chars().anyMatch(ch -> ch >= '0' && ch <= '9');
    }

    private static JsonNode integer(BigInteger value) {
        if (value.compareTo(INT_MIN) >= 0 && value.compareTo(INT_MAX) <= 0) {
            return NODES.numberNode(value.intValue());
        }
        if (value.compareTo(LONG_MIN) >= 0 && value.compareTo(LONG_MAX) <= 0) {
            return NODES.numberNode(value.longValue());
        }
        return NODES.numberNode(value);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    // ---- strings ----

    /** One string literal, or several adjacent ones, which Python concatenates ("a" "b" is "ab"). */
    private String strings(boolean raw) {
        StringBuilder out = new StringBuilder();
        string(raw, out);
        while (true) {
            char c = peek();
            if (c == '"' || c == '\'') {
                string(false, out);
            } else if ((c == 'r' || c == 'R') && pos + 1 < text.length()
                    && (text.charAt(pos + 1) == '"' || text.charAt(pos + 1) == '\'')) {
                pos++;
                string(true, out);
            } else {
                return out.toString();
            }
        }
    }

    private void string(boolean raw, StringBuilder out) {
        char quote = text.charAt(pos);
        boolean triple = text.startsWith(String.valueOf(quote).repeat(3), pos);
        pos += triple ? 3 : 1;
        while (true) {
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char c = text.charAt(pos);
            if (c == quote && (!triple || text.startsWith(String.valueOf(quote).repeat(3), pos))) {
                pos += triple ? 3 : 1;
                return;
            }
            if ((c == '\n' || c == '\r') && !triple) {
                throw error("line break inside a single-quoted string");
            }
            if (c == '\\') {
                if (pos + 1 >= text.length()) {
                    throw error("unterminated string");
                }
                if (raw) {
                    // a raw string keeps the backslash, but it still escapes the quote from ending the string
                    out.append(c).append(text.charAt(pos + 1));
                    pos += 2;
                } else {
                    pos++;
                    escape(out);
                }
                continue;
            }
            out.append(c);
            pos++;
        }
    }

    /** Python's escape sequences; an unknown one keeps its backslash, as Python does. */
    private void escape(StringBuilder out) {
        char c = text.charAt(pos++);
        switch (c) {
            case '\n' -> { } // line continuation
            case '\\', '\'', '"' -> out.append(c);
            case 'n' -> out.append('\n');
            case 't' -> out.append('\t');
            case 'r' -> out.append('\r');
            case 'b' -> out.append('\b');
            case 'f' -> out.append('\f');
            case 'v' -> out.append('\u000b');
            case 'a' -> out.append('\u0007');
            case 'x' -> out.appendCodePoint(hex(2));
            case 'u' -> out.appendCodePoint(hex(4));
            case 'U' -> {
                int cp = hex(8);
                if (cp > Character.MAX_CODE_POINT) {
                    throw error("\\U escape beyond U+10FFFF");
                }
                out.appendCodePoint(cp);
            }
            case 'N' -> out.appendCodePoint(namedCharacter());
            default -> {
                if (c >= '0' && c <= '7') {
                    int value = c - '0';
                    for (int i = 0; i < 2 && pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '7'; i++) {
                        value = value * 8 + (text.charAt(pos++) - '0');
                    }
                    out.append((char) value);
                } else {
                    out.append('\\').append(c);
                }
            }
        }
    }

    private int hex(int digits) {
        if (pos + digits > text.length()) {
            throw error("truncated escape");
        }
        int value = 0;
        for (int i = 0; i < digits; i++) {
            int d = Character.digit(text.charAt(pos), 16);
            if (d < 0) {
                throw error("bad hex digit in escape");
            }
            value = value * 16 + d;
            pos++;
        }
        return value;
    }

    private int namedCharacter() {
        int close = text.indexOf('}', pos);
        if (pos >= text.length() || text.charAt(pos) != '{' || close < 0) {
            throw error("malformed \\N{...} escape");
        }
        String name = text.substring(pos + 1, close);
        pos = close + 1;
        try {
            return Character.codePointOf(name);
        } catch (IllegalArgumentException e) {
            throw error("unknown character name '" + name + "'");
        }
    }
}
