package io.nemotron.core.chat.jinja;

import io.nemotron.core.chat.jinja.Token.Kind;
import java.util.List;

/** The parser's cursor over lexer tokens, with the error messages that name the offending token and line. */
final class TokenStream {
    private final List<Token> tokens;
    private int pos;

    TokenStream(List<Token> tokens) {
        this.tokens = tokens;
    }

    Token peek() {
        return tokens.get(pos);
    }

    Token peekAt(int ahead) {
        return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
    }

    Token next() {
        Token t = tokens.get(pos);
        if (t.kind() != Kind.EOF) {
            pos++;
        }
        return t;
    }

    boolean accept(Kind kind, String text) {
        if (peek().is(kind, text)) {
            pos++;
            return true;
        }
        return false;
    }

    Token expect(Kind kind, String what) {
        Token t = peek();
        boolean ok = kind == Kind.OPERATOR ? t.isOp(what) : t.kind() == kind;
        if (!ok) {
            throw error("expected " + what + " but found '" + describe(t) + "'");
        }
        return next();
    }

    static String describe(Token t) {
        return switch (t.kind()) {
            case EOF -> "end of template";
            case VAR_END -> "}}";
            case BLOCK_END -> "%}";
            case VAR_BEGIN -> "{{";
            case BLOCK_BEGIN -> "{%";
            case TEXT -> "text";
            default -> t.text();
        };
    }

    TemplateException error(String message) {
        return error(message, true);
    }

    TemplateException error(String message, boolean withLine) {
        return new TemplateException(withLine ? "line " + peek().line() + ": " + message : message);
    }
}
