package io.nemotron.core.chat.jinja;

import java.util.List;

/** Statement nodes of a parsed template. */
sealed interface Node {
    record Text(String text) implements Node {}

    record Output(Expr expr) implements Node {}

    record If(List<Expr> conditions, List<List<Node>> bodies, List<Node> otherwise) implements Node {}

    /** {@code filter} is the optional {@code if} clause of the loop; {@code otherwise} runs when nothing iterated. */
    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise, int line)
            implements Node {}

    /** {@code set a = ...}, {@code set a, b = ...}, or {@code set ns.attr = ...} when {@code attribute} is set. */
    record Set(List<String> targets, String attribute, Expr value, int line) implements Node {}

    /** {@code set name %}...{% endset}: captures the rendered body. */
    record SetBlock(String target, List<Node> body) implements Node {}

    record Macro(String name, List<String> params, List<Expr> defaults, List<Node> body) implements Node {}

    record Break() implements Node {}

    record Continue() implements Node {}
}
