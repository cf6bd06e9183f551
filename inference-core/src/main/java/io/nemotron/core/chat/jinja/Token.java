package io.nemotron.core.chat.jinja;

/** One lexer token. {@code value} is the decoded literal for STRING/INTEGER/FLOAT, the raw text otherwise. */
record Token(Kind kind, String text, Object value, int line) {
    enum Kind { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, EOF }

    boolean is(Kind k, String t) {
        return kind == k && text.equals(t);
    }

    boolean isOp(String t) {
        return is(Kind.OPERATOR, t);
    }

    boolean isName(String t) {
        return is(Kind.NAME, t);
    }
}
