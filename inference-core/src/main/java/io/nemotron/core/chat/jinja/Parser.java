package io.nemotron.core.chat.jinja;

import io.nemotron.core.chat.jinja.Token.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Parses statements ({@code if}, {@code for}, {@code set}, {@code macro}, loop controls); {@link ExprParser} does expressions. */
final class Parser {
    /** What {@link #parse} returns: the statements, and every variable name the template reads. */
    record Parsed(List<Node> nodes, Set<String> names) {}

    private final TokenStream in;
    private final ExprParser expr;

    private Parser(List<Token> tokens) {
        this.in = new TokenStream(tokens);
        this.expr = new ExprParser(in);
    }

    static Parsed parse(String source) {
        Parser parser = new Parser(Lexer.tokenize(source));
        List<Node> body = new ArrayList<>();
        String end = parser.body(body, Set.of());
        if (end != null) {
            throw parser.in.error("unexpected '" + end + "'");
        }
        return new Parsed(body, parser.expr.names());
    }


    /** Parses nodes until a block tag named in {@code ends}; returns that name (its tag stays open), or null at EOF. */
    private String body(List<Node> out, Set<String> ends) {
        while (true) {
            Token t = in.next();
            switch (t.kind()) {
                case EOF -> {
                    if (!ends.isEmpty()) {
                        throw in.error("missing " + String.join(" or ", ends));
                    }
                    return null;
                }
                case TEXT -> out.add(new Node.Text(t.text()));
                case VAR_BEGIN -> {
                    out.add(new Node.Output(expr.tuple(true)));
                    in.expect(Kind.VAR_END, "}}");
                }
                case BLOCK_BEGIN -> {
                    Token name = in.expect(Kind.NAME, "a tag name");
                    if (ends.contains(name.text())) {
                        return name.text();
                    }
                    statement(name, out);
                }
                default -> throw in.error("unexpected " + t.kind());
            }
        }
    }

    private void statement(Token name, List<Node> out) {
        switch (name.text()) {
            case "if" -> out.add(ifStatement());
            case "for" -> out.add(forStatement(name.line()));
            case "set" -> out.add(setStatement(name.line()));
            case "macro" -> out.add(macro());
            case "break" -> {
                endTag();
                out.add(new Node.Break());
            }
            case "continue" -> {
                endTag();
                out.add(new Node.Continue());
            }
            case "generation" -> {
                // HF's AssistantTracker tag only marks assistant spans for training masks: render the body as is.
                endTag();
                body(out, Set.of("endgeneration"));
                endTag();
            }
            default -> throw in.error("unknown tag '" + name.text() + "'");
        }
    }

    private Node ifStatement() {
        List<Expr> conditions = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> otherwise = List.of();
        conditions.add(expr.tuple(false));
        endTag();
        while (true) {
            List<Node> body = new ArrayList<>();
            bodies.add(body);
            String end = body(body, Set.of("elif", "else", "endif"));
            if (end.equals("elif")) {
                conditions.add(expr.tuple(false));
                endTag();
                continue;
            }
            endTag();
            if (end.equals("else")) {
                otherwise = new ArrayList<>();
                body(otherwise, Set.of("endif"));
                endTag();
            }
            return new Node.If(conditions, bodies, otherwise);
        }
    }

    private Node forStatement(int line) {
        List<String> targets = new ArrayList<>();
        do {
            targets.add(in.expect(Kind.NAME, "a loop variable").text());
        } while (in.accept(Kind.OPERATOR, ","));
        if (!in.accept(Kind.NAME, "in")) {
            throw in.error("expected 'in' in for loop");
        }
        Expr iterable = expr.tuple(false);
        Expr filter = in.accept(Kind.NAME, "if") ? expr.tuple(false) : null;
        endTag();
        List<Node> body = new ArrayList<>();
        List<Node> otherwise = List.of();
        if (body(body, Set.of("else", "endfor")).equals("else")) {
            endTag();
            otherwise = new ArrayList<>();
            body(otherwise, Set.of("endfor"));
        }
        endTag();
        return new Node.For(targets, iterable, filter, body, otherwise, line);
    }

    private Node setStatement(int line) {
        List<String> targets = new ArrayList<>();
        targets.add(in.expect(Kind.NAME, "a variable name").text());
        String attribute = null;
        if (in.accept(Kind.OPERATOR, ".")) {
            attribute = in.expect(Kind.NAME, "an attribute name").text();
        } else {
            while (in.accept(Kind.OPERATOR, ",")) {
                targets.add(in.expect(Kind.NAME, "a variable name").text());
            }
        }
        if (in.accept(Kind.OPERATOR, "=")) {
            Expr value = expr.tuple(true);
            endTag();
            return new Node.Set(targets, attribute, value, line);
        }
        if (attribute != null || targets.size() > 1) {
            throw in.error("expected '=' in set");
        }
        endTag();
        List<Node> body = new ArrayList<>();
        body(body, Set.of("endset"));
        endTag();
        return new Node.SetBlock(targets.get(0), body);
    }

    private Node macro() {
        String name = in.expect(Kind.NAME, "a macro name").text();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        in.expect(Kind.OPERATOR, "(");
        if (!in.accept(Kind.OPERATOR, ")")) {
            do {
                params.add(in.expect(Kind.NAME, "a parameter name").text());
                defaults.add(in.accept(Kind.OPERATOR, "=") ? expr.expression(true) : null);
            } while (in.accept(Kind.OPERATOR, ","));
            in.expect(Kind.OPERATOR, ")");
        }
        endTag();
        List<Node> body = new ArrayList<>();
        body(body, Set.of("endmacro"));
        endTag();
        return new Node.Macro(name, params, defaults, body);
    }

    private void endTag() {
        in.expect(Kind.BLOCK_END, "%}");
    }
}
