package io.nemotron.core.chat.jinja;

import io.nemotron.core.chat.jinja.Token.Kind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Recursive-descent parser with jinja2's precedence, lowest first: conditional, {@code or}, {@code and},
 * {@code not}, comparisons and {@code in}, {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary minus,
 * then postfix ({@code . [] ()}) and filters/tests, which bind tighter than any binary operator
 * ({@code 'a' + x | trim} is {@code 'a' + (x | trim)}).
 */
final class Parser {
    private static final Set<String> TEST_ARG_STARTERS = Set.of("[", "{");

    /** What {@link #parse} returns: the statements, and every variable name the template reads. */
    record Parsed(List<Node> nodes, Set<String> names) {}

    private final List<Token> tokens;
    private final Set<String> names = new java.util.HashSet<>();
    private int pos;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static Parsed parse(String source) {
        Parser parser = new Parser(Lexer.tokenize(source));
        List<Node> body = new ArrayList<>();
        String end = parser.body(body, Set.of());
        if (end != null) {
            throw parser.error("unexpected '" + end + "'");
        }
        return new Parsed(body, Set.copyOf(parser.names));
    }

    // ---- statements

    /** Parses nodes until a block tag named in {@code ends}; returns that name (its tag stays open), or null at EOF. */
    private String body(List<Node> out, Set<String> ends) {
        while (true) {
            Token t = next();
            switch (t.kind()) {
                case EOF -> {
                    if (!ends.isEmpty()) {
                        throw error("missing " + String.join(" or ", ends));
                    }
                    return null;
                }
                case TEXT -> out.add(new Node.Text(t.text()));
                case VAR_BEGIN -> {
                    out.add(new Node.Output(tuple(true)));
                    expect(Kind.VAR_END, "}}");
                }
                case BLOCK_BEGIN -> {
                    Token name = expect(Kind.NAME, "a tag name");
                    if (ends.contains(name.text())) {
                        return name.text();
                    }
                    statement(name, out);
                }
                default -> throw error("unexpected " + t.kind());
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
            default -> throw error("unknown tag '" + name.text() + "'");
        }
    }

    private Node ifStatement() {
        List<Expr> conditions = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> otherwise = List.of();
        conditions.add(tuple(false));
        endTag();
        while (true) {
            List<Node> body = new ArrayList<>();
            bodies.add(body);
            String end = body(body, Set.of("elif", "else", "endif"));
            if (end.equals("elif")) {
                conditions.add(tuple(false));
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
            targets.add(expect(Kind.NAME, "a loop variable").text());
        } while (accept(Kind.OPERATOR, ","));
        if (!accept(Kind.NAME, "in")) {
            throw error("expected 'in' in for loop");
        }
        Expr iterable = tuple(false);
        Expr filter = accept(Kind.NAME, "if") ? tuple(false) : null;
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
        targets.add(expect(Kind.NAME, "a variable name").text());
        String attribute = null;
        if (accept(Kind.OPERATOR, ".")) {
            attribute = expect(Kind.NAME, "an attribute name").text();
        } else {
            while (accept(Kind.OPERATOR, ",")) {
                targets.add(expect(Kind.NAME, "a variable name").text());
            }
        }
        if (accept(Kind.OPERATOR, "=")) {
            Expr value = tuple(true);
            endTag();
            return new Node.Set(targets, attribute, value, line);
        }
        if (attribute != null || targets.size() > 1) {
            throw error("expected '=' in set");
        }
        endTag();
        List<Node> body = new ArrayList<>();
        body(body, Set.of("endset"));
        endTag();
        return new Node.SetBlock(targets.get(0), body);
    }

    private Node macro() {
        String name = expect(Kind.NAME, "a macro name").text();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        expect(Kind.OPERATOR, "(");
        if (!accept(Kind.OPERATOR, ")")) {
            do {
                params.add(expect(Kind.NAME, "a parameter name").text());
                defaults.add(accept(Kind.OPERATOR, "=") ? expression(true) : null);
            } while (accept(Kind.OPERATOR, ","));
            expect(Kind.OPERATOR, ")");
        }
        endTag();
        List<Node> body = new ArrayList<>();
        body(body, Set.of("endmacro"));
        endTag();
        return new Node.Macro(name, params, defaults, body);
    }

    private void endTag() {
        expect(Kind.BLOCK_END, "%}");
    }

    // ---- expressions

    /** An expression, or an implicit tuple {@code a, b} (as in {@code set x = 1, 2} or {@code for x in a, b}). */
    private Expr tuple(boolean withConditional) {
        int line = peek().line();
        Expr first = expression(withConditional);
        if (!peek().isOp(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>(List.of(first));
        while (accept(Kind.OPERATOR, ",")) {
            if (atExpressionEnd()) {
                break;
            }
            items.add(expression(withConditional));
        }
        return new Expr.ListLit(items, line);
    }

    private boolean atExpressionEnd() {
        Kind k = peek().kind();
        return k == Kind.VAR_END || k == Kind.BLOCK_END || peek().isOp(")") || peek().isOp("]");
    }

    private Expr expression(boolean withConditional) {
        Expr expr = or();
        if (!withConditional) {
            return expr;
        }
        while (peek().isName("if")) {
            int line = next().line();
            Expr cond = or();
            Expr otherwise = accept(Kind.NAME, "else") ? expression(true) : null;
            expr = new Expr.Conditional(cond, expr, otherwise, line);
        }
        return expr;
    }

    private Expr or() {
        Expr left = and();
        while (peek().isName("or")) {
            int line = next().line();
            left = new Expr.Binary("or", left, and(), line);
        }
        return left;
    }

    private Expr and() {
        Expr left = not();
        while (peek().isName("and")) {
            int line = next().line();
            left = new Expr.Binary("and", left, not(), line);
        }
        return left;
    }

    private Expr not() {
        if (peek().isName("not")) {
            int line = next().line();
            return new Expr.Unary("not", not(), line);
        }
        return compare();
    }

    private Expr compare() {
        int line = peek().line();
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = peek();
            String op;
            if (t.kind() == Kind.OPERATOR && Set.of("==", "!=", "<", "<=", ">", ">=").contains(t.text())) {
                next();
                op = t.text();
            } else if (t.isName("in")) {
                next();
                op = "in";
            } else if (t.isName("not") && peekAt(1).isName("in")) {
                next();
                next();
                op = "not in";
            } else {
                break;
            }
            ops.add(op);
            rest.add(math1());
        }
        return ops.isEmpty() ? first : new Expr.Compare(first, ops, rest, line);
    }

    private Expr math1() {
        Expr left = concat();
        while (peek().isOp("+") || peek().isOp("-")) {
            Token op = next();
            left = new Expr.Binary(op.text(), left, concat(), op.line());
        }
        return left;
    }

    private Expr concat() {
        Expr left = math2();
        while (peek().isOp("~")) {
            Token op = next();
            left = new Expr.Binary("~", left, math2(), op.line());
        }
        return left;
    }

    private Expr math2() {
        Expr left = pow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            Token op = next();
            left = new Expr.Binary(op.text(), left, pow(), op.line());
        }
        return left;
    }

    private Expr pow() {
        Expr left = unary(true);
        while (peek().isOp("**")) {
            Token op = next();
            left = new Expr.Binary("**", left, unary(true), op.line());
        }
        return left;
    }

    private Expr unary(boolean withFilter) {
        Expr node;
        if (peek().isOp("-") || peek().isOp("+")) {
            Token op = next();
            node = new Expr.Unary(op.text(), unary(false), op.line());
        } else {
            node = postfix(primary());
        }
        return withFilter ? filters(node) : node;
    }

    private Expr primary() {
        Token t = next();
        switch (t.kind()) {
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Expr.Literal(Boolean.TRUE, t.line());
                    case "false", "False" -> new Expr.Literal(Boolean.FALSE, t.line());
                    case "none", "None" -> new Expr.Literal(null, t.line());
                    default -> {
                        names.add(t.text());
                        yield new Expr.Name(t.text(), t.line());
                    }
                };
            }
            case STRING -> {
                // adjacent literals concatenate, as in Python
                StringBuilder s = new StringBuilder(t.text());
                while (peek().kind() == Kind.STRING) {
                    s.append(next().text());
                }
                return new Expr.Literal(s.toString(), t.line());
            }
            case INTEGER, FLOAT -> {
                return new Expr.Literal(t.value(), t.line());
            }
            case OPERATOR -> {
                switch (t.text()) {
                    case "(" -> {
                        if (accept(Kind.OPERATOR, ")")) {
                            return new Expr.ListLit(List.of(), t.line());
                        }
                        Expr inner = tuple(true);
                        expect(Kind.OPERATOR, ")");
                        return inner;
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!accept(Kind.OPERATOR, "]")) {
                            items.add(expression(true));
                            if (!accept(Kind.OPERATOR, ",")) {
                                expect(Kind.OPERATOR, "]");
                                break;
                            }
                        }
                        return new Expr.ListLit(items, t.line());
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        while (!accept(Kind.OPERATOR, "}")) {
                            keys.add(expression(true));
                            expect(Kind.OPERATOR, ":");
                            values.add(expression(true));
                            if (!accept(Kind.OPERATOR, ",")) {
                                expect(Kind.OPERATOR, "}");
                                break;
                            }
                        }
                        return new Expr.DictLit(keys, values, t.line());
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        throw error("line " + t.line() + ": unexpected '" + describe(t) + "'", false);
    }

    private Expr postfix(Expr node) {
        while (true) {
            Token t = peek();
            if (t.isOp(".")) {
                next();
                Token attr = next();
                if (attr.kind() == Kind.INTEGER) {
                    node = new Expr.GetItem(node, new Expr.Literal(attr.value(), attr.line()), attr.line());
                } else if (attr.kind() == Kind.NAME) {
                    node = new Expr.GetAttr(node, attr.text(), attr.line());
                } else {
                    throw error("expected an attribute name after '.'");
                }
            } else if (t.isOp("[")) {
                next();
                node = subscript(node, t.line());
            } else if (t.isOp("(")) {
                next();
                node = call(node, t.line());
            } else {
                return node;
            }
        }
    }

    private Expr subscript(Expr target, int line) {
        Expr[] parts = new Expr[3];
        int part = 0;
        boolean isSlice = false;
        while (!accept(Kind.OPERATOR, "]")) {
            if (accept(Kind.OPERATOR, ":")) {
                isSlice = true;
                if (++part > 2) {
                    throw error("too many ':' in slice");
                }
                continue;
            }
            if (parts[part] != null) {
                throw error("expected ']'");
            }
            parts[part] = expression(true);
        }
        if (!isSlice) {
            if (parts[0] == null) {
                throw error("empty subscript");
            }
            return new Expr.GetItem(target, parts[0], line);
        }
        return new Expr.Slice(target, parts[0], parts[1], parts[2], line);
    }

    private Expr call(Expr callee, int line) {
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        callArguments(args, kwargs);
        return new Expr.Call(callee, args, kwargs, line);
    }

    /** Arguments after an opening parenthesis, through the closing one. */
    private void callArguments(List<Expr> args, Map<String, Expr> kwargs) {
        while (!accept(Kind.OPERATOR, ")")) {
            if (peek().kind() == Kind.NAME && peekAt(1).isOp("=")) {
                String key = next().text();
                next();
                kwargs.put(key, expression(true));
            } else {
                if (!kwargs.isEmpty()) {
                    throw error("positional argument after keyword argument");
                }
                args.add(expression(true));
            }
            if (!accept(Kind.OPERATOR, ",")) {
                expect(Kind.OPERATOR, ")");
                return;
            }
        }
    }

    private Expr filters(Expr node) {
        while (true) {
            Token t = peek();
            if (t.isOp("|")) {
                next();
                String name = expect(Kind.NAME, "a filter name").text();
                List<Expr> args = new ArrayList<>();
                Map<String, Expr> kwargs = new LinkedHashMap<>();
                if (accept(Kind.OPERATOR, "(")) {
                    callArguments(args, kwargs);
                }
                node = new Expr.Filter(node, name, args, kwargs, t.line());
            } else if (t.isName("is")) {
                next();
                boolean negated = accept(Kind.NAME, "not");
                String name = expect(Kind.NAME, "a test name").text();
                List<Expr> args = new ArrayList<>();
                if (accept(Kind.OPERATOR, "(")) {
                    callArguments(args, new LinkedHashMap<>());
                } else if (startsTestArgument(peek())) {
                    args.add(postfix(primary()));
                }
                node = new Expr.Test(node, name, args, negated, t.line());
            } else if (t.isOp("(")) {
                next();
                node = call(node, t.line());
            } else {
                return node;
            }
        }
    }

    /** jinja2 lets a test take one argument without parentheses ({@code x is divisibleby 3}). */
    private static boolean startsTestArgument(Token t) {
        return switch (t.kind()) {
            case NAME -> !Set.of("else", "or", "and", "is", "if", "in", "not").contains(t.text());
            case STRING, INTEGER, FLOAT -> true;
            case OPERATOR -> TEST_ARG_STARTERS.contains(t.text());
            default -> false;
        };
    }

    // ---- token helpers

    private Token peek() {
        return tokens.get(pos);
    }

    private Token peekAt(int ahead) {
        return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (t.kind() != Kind.EOF) {
            pos++;
        }
        return t;
    }

    private boolean accept(Kind kind, String text) {
        if (peek().is(kind, text)) {
            pos++;
            return true;
        }
        return false;
    }

    private Token expect(Kind kind, String what) {
        Token t = peek();
        boolean ok = kind == Kind.OPERATOR ? t.isOp(what) : t.kind() == kind;
        if (!ok) {
            throw error("expected " + what + " but found '" + describe(t) + "'");
        }
        return next();
    }

    private static String describe(Token t) {
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

    private TemplateException error(String message) {
        return error(message, true);
    }

    private TemplateException error(String message, boolean withLine) {
        return new TemplateException(withLine ? "line " + peek().line() + ": " + message : message);
    }
}
