package io.nemotron.core.chat.jinja;

import java.util.List;
import java.util.Map;

/** Expression nodes. {@code line} is the template line, for error messages. */
sealed interface Expr {
    int line();

    record Literal(Object value, int line) implements Expr {}

    record Name(String name, int line) implements Expr {}

    /** List literal; tuples are lists too (templates only iterate or index them). */
    record ListLit(List<Expr> items, int line) implements Expr {}

    record DictLit(List<Expr> keys, List<Expr> values, int line) implements Expr {}

    record GetAttr(Expr target, String name, int line) implements Expr {}

    record GetItem(Expr target, Expr key, int line) implements Expr {}

    /** {@code target[start:stop:step]}; absent parts are null. */
    record Slice(Expr target, Expr start, Expr stop, Expr step, int line) implements Expr {}

    record Call(Expr callee, List<Expr> args, Map<String, Expr> kwargs, int line) implements Expr {}

    record Filter(Expr operand, String name, List<Expr> args, Map<String, Expr> kwargs, int line) implements Expr {}

    record Test(Expr operand, String name, List<Expr> args, boolean negated, int line) implements Expr {}

    /** {@code not}, unary {@code -} and {@code +}. */
    record Unary(String op, Expr operand, int line) implements Expr {}

    /** Arithmetic, {@code and}/{@code or} (short-circuit) and {@code ~}. */
    record Binary(String op, Expr left, Expr right, int line) implements Expr {}

    /** A comparison chain {@code a < b <= c}; ops include {@code in} and {@code not in}. */
    record Compare(Expr first, List<String> ops, List<Expr> rest, int line) implements Expr {}

    /** {@code then if cond else otherwise}; a missing else yields undefined. */
    record Conditional(Expr cond, Expr then, Expr otherwise, int line) implements Expr {}
}
