package io.nemotron.core.chat.jinja;

import io.nemotron.core.chat.jinja.Token.Kind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Expression parser with jinja2's precedence, lowest first: conditional, {@code or}, {@code and},
 * {@code not}, comparisons and {@code in}, {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary minus,
 * then postfix ({@code . [] ()}) and filters/tests, which bind tighter than any binary operator
 * ({@code 'a' + x | trim} is {@code 'a' + (x | trim)}). Records every variable name it reads.
 */
final class ExprParser {
    private static final Set<String> TEST_ARG_STARTERS = Set.of("[", "{");

    private final TokenStream in;
    private final Set<String> names = new java.util.HashSet<>();

    ExprParser(TokenStream in) {
        this.in = in;
    }

    Set<String> names() {
        return Set.copyOf(names);
    }


    /** An expression, or an implicit tuple {@code a, b} (as in {@code set x = 1, 2} or {@code for x in a, b}). */
    Expr tuple(boolean withConditional) {
        int line = in.peek().line();
        Expr first = expression(withConditional);
        if (!in.peek().isOp(",")) {
            return first;
        }
        List<Expr> items = new ArrayList<>(List.of(first));
        while (in.accept(Kind.OPERATOR, ",")) {
            if (atExpressionEnd()) {
                break;
            }
            items.add(expression(withConditional));
        }
        return new Expr.ListLit(items, line);
    }

    private boolean atExpressionEnd() {
        Kind k = in.peek().kind();
        return k == Kind.VAR_END || k == Kind.BLOCK_END || in.peek().isOp(")") || in.peek().isOp("]");
    }

    Expr expression(boolean withConditional) {
        Expr expr = or();
        if (!withConditional) {
            return expr;
        }
        while (in.peek().isName("if")) {
            int line = in.next().line();
            Expr cond = or();
            Expr otherwise = in.accept(Kind.NAME, "else") ? expression(true) : null;
            expr = new Expr.Conditional(cond, expr, otherwise, line);
        }
        return expr;
    }

    private Expr or() {
        Expr left = and();
        while (in.peek().isName("or")) {
            int line = in.next().line();
            left = new Expr.Binary("or", left, and(), line);
        }
        return left;
    }

    private Expr and() {
        Expr left = not();
        while (in.peek().isName("and")) {
            int line = in.next().line();
            left = new Expr.Binary("and", left, not(), line);
        }
        return left;
    }

    private Expr not() {
        if (in.peek().isName("not")) {
            int line = in.next().line();
            return new Expr.Unary("not", not(), line);
        }
        return compare();
    }

    private Expr compare() {
        int line = in.peek().line();
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = in.peek();
            String op;
            if (t.kind() == Kind.OPERATOR && Set.of("==", "!=", "<", "<=", ">", ">=").contains(t.text())) {
                in.next();
                op = t.text();
            } else if (t.isName("in")) {
                in.next();
                op = "in";
            } else if (t.isName("not") && in.peekAt(1).isName("in")) {
                in.next();
                in.next();
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
        while (in.peek().isOp("+") || in.peek().isOp("-")) {
            Token op = in.next();
            left = new Expr.Binary(op.text(), left, concat(), op.line());
        }
        return left;
    }

    private Expr concat() {
        Expr left = math2();
        while (in.peek().isOp("~")) {
            Token op = in.next();
            left = new Expr.Binary("~", left, math2(), op.line());
        }
        return left;
    }

    private Expr math2() {
        Expr left = pow();
        while (in.peek().isOp("*") || in.peek().isOp("/") || in.peek().isOp("//") || in.peek().isOp("%")) {
            Token op = in.next();
            left = new Expr.Binary(op.text(), left, pow(), op.line());
        }
        return left;
    }

    private Expr pow() {
        Expr left = unary(true);
        while (in.peek().isOp("**")) {
            Token op = in.next();
            left = new Expr.Binary("**", left, unary(true), op.line());
        }
        return left;
    }

    private Expr unary(boolean withFilter) {
        Expr node;
        if (in.peek().isOp("-") || in.peek().isOp("+")) {
            Token op = in.next();
            node = new Expr.Unary(op.text(), unary(false), op.line());
        } else {
            node = postfix(primary());
        }
        return withFilter ? filters(node) : node;
    }

    private Expr primary() {
        Token t = in.next();
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
                while (in.peek().kind() == Kind.STRING) {
                    s.append(in.next().text());
                }
                return new Expr.Literal(s.toString(), t.line());
            }
            case INTEGER, FLOAT -> {
                return new Expr.Literal(t.value(), t.line());
            }
            case OPERATOR -> {
                switch (t.text()) {
                    case "(" -> {
                        if (in.accept(Kind.OPERATOR, ")")) {
                            return new Expr.ListLit(List.of(), t.line());
                        }
                        Expr inner = tuple(true);
                        in.expect(Kind.OPERATOR, ")");
                        return inner;
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!in.accept(Kind.OPERATOR, "]")) {
                            items.add(expression(true));
                            if (!in.accept(Kind.OPERATOR, ",")) {
                                in.expect(Kind.OPERATOR, "]");
                                break;
                            }
                        }
                        return new Expr.ListLit(items, t.line());
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        while (!in.accept(Kind.OPERATOR, "}")) {
                            keys.add(expression(true));
                            in.expect(Kind.OPERATOR, ":");
                            values.add(expression(true));
                            if (!in.accept(Kind.OPERATOR, ",")) {
                                in.expect(Kind.OPERATOR, "}");
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
        throw in.error("line " + t.line() + ": unexpected '" + TokenStream.describe(t) + "'", false);
    }

    private Expr postfix(Expr node) {
        while (true) {
            Token t = in.peek();
            if (t.isOp(".")) {
                in.next();
                Token attr = in.next();
                if (attr.kind() == Kind.INTEGER) {
                    node = new Expr.GetItem(node, new Expr.Literal(attr.value(), attr.line()), attr.line());
                } else if (attr.kind() == Kind.NAME) {
                    node = new Expr.GetAttr(node, attr.text(), attr.line());
                } else {
                    throw in.error("expected an attribute name after '.'");
                }
            } else if (t.isOp("[")) {
                in.next();
                node = subscript(node, t.line());
            } else if (t.isOp("(")) {
                in.next();
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
        while (!in.accept(Kind.OPERATOR, "]")) {
            if (in.accept(Kind.OPERATOR, ":")) {
                isSlice = true;
                if (++part > 2) {
                    throw in.error("too many ':' in slice");
                }
                continue;
            }
            if (parts[part] != null) {
                throw in.error("expected ']'");
            }
            parts[part] = expression(true);
        }
        if (!isSlice) {
            if (parts[0] == null) {
                throw in.error("empty subscript");
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
    void callArguments(List<Expr> args, Map<String, Expr> kwargs) {
        while (!in.accept(Kind.OPERATOR, ")")) {
            if (in.peek().kind() == Kind.NAME && in.peekAt(1).isOp("=")) {
                String key = in.next().text();
                in.next();
                kwargs.put(key, expression(true));
            } else {
                if (!kwargs.isEmpty()) {
                    throw in.error("positional argument after keyword argument");
                }
                args.add(expression(true));
            }
            if (!in.accept(Kind.OPERATOR, ",")) {
                in.expect(Kind.OPERATOR, ")");
                return;
            }
        }
    }

    private Expr filters(Expr node) {
        while (true) {
            Token t = in.peek();
            if (t.isOp("|")) {
                in.next();
                String name = in.expect(Kind.NAME, "a filter name").text();
                List<Expr> args = new ArrayList<>();
                Map<String, Expr> kwargs = new LinkedHashMap<>();
                if (in.accept(Kind.OPERATOR, "(")) {
                    callArguments(args, kwargs);
                }
                node = new Expr.Filter(node, name, args, kwargs, t.line());
            } else if (t.isName("is")) {
                in.next();
                boolean negated = in.accept(Kind.NAME, "not");
                String name = in.expect(Kind.NAME, "a test name").text();
                List<Expr> args = new ArrayList<>();
                if (in.accept(Kind.OPERATOR, "(")) {
                    callArguments(args, new LinkedHashMap<>());
                } else if (startsTestArgument(in.peek())) {
                    args.add(postfix(primary()));
                }
                node = new Expr.Test(node, name, args, negated, t.line());
            } else if (t.isOp("(")) {
                in.next();
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
}
