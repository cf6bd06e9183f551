package io.nemotron.service.toolcall;

/**
 * Finds where a {@code <TOOLCALL>} block ends: the first {@code </TOOLCALL>} that is not inside a quoted string, so an
 * argument that quotes the tag (or brackets, or {@code <TOOLCALL>}) cannot cut the block short. Strings are those of
 * both block forms: JSON's {@code "..."} and Python's {@code '...'}, {@code "..."} and triple-quoted literals, with
 * backslash escapes. A one-line string that meets a newline is over (neither JSON nor Python lets it continue), so a
 * stray quote in a malformed block cannot swallow the rest of the output.
 *
 * <p>Incremental: the block's text may arrive in any pieces; the state between calls is where the scan stopped and
 * whether it is inside a string. A scan waits (returns -1) where the next characters decide: a possible start of the
 * closing tag, or a quote that may open a triple-quoted string.
 */
final class BlockCloseFinder {
    private static final String CLOSE = ToolCallStreamParser.CLOSE;

    private int pos;
    private char quote;        // 0 outside a string, else the quote character that opened it
    private boolean triple;
    private boolean escaped;

    /** Starts a block whose text begins at index 0 with its opening tag of {@code openLength} characters. */
    void start(int openLength) {
        pos = openLength;
        quote = 0;
        triple = false;
        escaped = false;
    }

    /** The index of the block's closing tag in {@code text}, or -1 when it is not (yet) there. */
    int find(CharSequence text) {
        int len = text.length();
        while (pos < len) {
            char c = text.charAt(pos);
            if (quote == 0) {
                if (c == '<') {
                    int have = Math.min(CLOSE.length(), len - pos);
                    if (!regionEquals(text, pos, have)) {
                        pos++;
                    } else if (have == CLOSE.length()) {
                        return pos;
                    } else {
                        return -1;   // "</TOOL" at the end: the next piece decides
                    }
                } else if (c == '"' || c == '\'') {
                    if (len - pos < 3) {
                        return -1;   // '' or ''' : the next characters decide
                    }
                    if (text.charAt(pos + 1) == c && text.charAt(pos + 2) == c) {
                        quote = c;
                        triple = true;
                        pos += 3;
                    } else if (text.charAt(pos + 1) == c) {
                        pos += 2;    // an empty string
                    } else {
                        quote = c;
                        triple = false;
                        pos++;
                    }
                } else {
                    pos++;
                }
            } else if (escaped) {
                escaped = false;
                pos++;
            } else if (c == '\\') {
                escaped = true;
                pos++;
            } else if (c == '\n' && !triple) {
                quote = 0;           // an unterminated one-line string: malformed, let the parser say so
                pos++;
            } else if (c == quote) {
                if (!triple) {
                    quote = 0;
                    pos++;
                } else if (len - pos < 3) {
                    return -1;
                } else if (text.charAt(pos + 1) == c && text.charAt(pos + 2) == c) {
                    quote = 0;
                    triple = false;
                    pos += 3;
                } else {
                    pos++;
                }
            } else {
                pos++;
            }
        }
        return -1;
    }

    private static boolean regionEquals(CharSequence text, int at, int n) {
        for (int i = 0; i < n; i++) {
            if (text.charAt(at + i) != CLOSE.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
