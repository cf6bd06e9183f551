package io.nemotron.core.chat.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Walks the parsed template: statements write to the output, expressions evaluate to template values. */
final class Interpreter {
    /** How a statement list ended: normally, or by {@code break}/{@code continue} (the loopcontrols extension). */
    private enum Flow { NORMAL, BREAK, CONTINUE }

    private final StringBuilder out = new StringBuilder();

    static String render(List<Node> nodes, Scope scope) {
        Interpreter interpreter = new Interpreter();
        interpreter.execute(nodes, scope, interpreter.out);
        return interpreter.out.toString();
    }

    private Flow execute(List<Node> nodes, Scope scope, StringBuilder sink) {
        for (Node node : nodes) {
            Flow flow = execute(node, scope, sink);
            if (flow != Flow.NORMAL) {
                return flow;
            }
        }
        return Flow.NORMAL;
    }

    private Flow execute(Node node, Scope scope, StringBuilder sink) {
        switch (node) {
            case Node.Text t -> sink.append(t.text());
            case Node.Output o -> sink.append(Values.str(eval(o.expr(), scope)));
            case Node.If i -> {
                for (int k = 0; k < i.conditions().size(); k++) {
                    if (Values.truthy(eval(i.conditions().get(k), scope))) {
                        return execute(i.bodies().get(k), scope, sink);
                    }
                }
                return execute(i.otherwise(), scope, sink);
            }
            case Node.For f -> forLoop(f, scope, sink);
            case Node.Set s -> assign(s, eval(s.value(), scope), scope);
            case Node.SetBlock s -> {
                StringBuilder captured = new StringBuilder();
                execute(s.body(), scope, captured);
                scope.set(s.target(), captured.toString());
            }
            case Node.Macro m -> scope.set(m.name(), macro(m, scope));
            case Node.Break b -> {
                return Flow.BREAK;
            }
            case Node.Continue c -> {
                return Flow.CONTINUE;
            }
        }
        return Flow.NORMAL;
    }

    private void forLoop(Node.For f, Scope scope, StringBuilder sink) {
        Object iterable = eval(f.iterable(), scope);
        if (iterable == null) {
            throw new TemplateException("line " + f.line() + ": 'NoneType' object is not iterable");
        }
        List<Object> items = Values.iterate(iterable);
        if (f.filter() != null) {
            // jinja2 filters first, so loop.length/last count only the kept items
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Scope probe = new Scope(scope);
                bind(f.targets(), item, probe, f.line());
                if (Values.truthy(eval(f.filter(), probe))) {
                    kept.add(item);
                }
            }
            items = kept;
        }
        if (items.isEmpty()) {
            execute(f.otherwise(), scope, sink);
            return;
        }
        LoopInfo loop = new LoopInfo(items);
        for (int i = 0; i < items.size(); i++) {
            Scope iteration = new Scope(scope);
            loop.advance(i);
            iteration.set("loop", loop);
            bind(f.targets(), items.get(i), iteration, f.line());
            if (execute(f.body(), iteration, sink) == Flow.BREAK) {
                break;
            }
        }
    }

    private static void bind(List<String> targets, Object item, Scope scope, int line) {
        if (targets.size() == 1) {
            scope.set(targets.get(0), item);
            return;
        }
        List<Object> parts = Values.iterate(item);
        if (parts.size() != targets.size()) {
            throw new TemplateException("line " + line + ": cannot unpack " + parts.size() + " values into "
                    + targets.size() + " names");
        }
        for (int i = 0; i < targets.size(); i++) {
            scope.set(targets.get(i), parts.get(i));
        }
    }

    private static void assign(Node.Set s, Object value, Scope scope) {
        if (s.attribute() == null) {
            bind(s.targets(), value, scope, s.line());
            return;
        }
        Object target = scope.lookup(s.targets().get(0));
        if (!(target instanceof Namespace ns)) {
            throw new TemplateException("line " + s.line() + ": cannot assign attribute on non-namespace object '"
                    + s.targets().get(0) + "'");
        }
        ns.set(s.attribute(), value);
    }

    /** A macro sees the variables where it was defined, plus its parameters (defaults evaluated per call). */
    private JinjaCallable macro(Node.Macro m, Scope defined) {
        return (args, kwargs) -> {
            if (args.size() > m.params().size()) {
                throw new TemplateException("macro '" + m.name() + "' takes " + m.params().size() + " arguments, got " + args.size());
            }
            Scope call = new Scope(defined);
            for (int i = 0; i < m.params().size(); i++) {
                String p = m.params().get(i);
                Object v;
                if (i < args.size()) {
                    v = args.get(i);
                } else if (kwargs.containsKey(p)) {
                    v = kwargs.get(p);
                } else if (m.defaults().get(i) != null) {
                    v = eval(m.defaults().get(i), call);
                } else {
                    v = new Undefined("parameter '" + p + "' of macro '" + m.name() + "' was not given");
                }
                call.set(p, v);
            }
            StringBuilder body = new StringBuilder();
            execute(m.body(), call, body);
            return body.toString();
        };
    }

    // ---- expressions

    private Object eval(Expr e, Scope scope) {
        try {
            return evalUnchecked(e, scope);
        } catch (RaisedException ex) {
            throw ex;
        } catch (TemplateException ex) {
            throw ex.getMessage().startsWith("line ") ? ex : new TemplateException("line " + e.line() + ": " + ex.getMessage());
        }
    }

    private Object evalUnchecked(Expr e, Scope scope) {
        return switch (e) {
            case Expr.Literal l -> l.value();
            case Expr.Name n -> scope.lookup(n.name());
            case Expr.ListLit l -> {
                List<Object> items = new ArrayList<>();
                l.items().forEach(x -> items.add(eval(x, scope)));
                yield items;
            }
            case Expr.DictLit d -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    map.put(eval(d.keys().get(i), scope), eval(d.values().get(i), scope));
                }
                yield map;
            }
            case Expr.GetAttr g -> Access.attribute(eval(g.target(), scope), g.name());
            case Expr.GetItem g -> Access.item(eval(g.target(), scope), eval(g.key(), scope));
            case Expr.Slice s -> Access.slice(eval(s.target(), scope), evalOrNull(s.start(), scope),
                    evalOrNull(s.stop(), scope), evalOrNull(s.step(), scope));
            case Expr.Call c -> call(c, scope);
            case Expr.Filter f -> Filters.apply(f.name(), eval(f.operand(), scope), args(f.name(), f.args(), f.kwargs(), scope));
            case Expr.Test t -> {
                List<Object> args = new ArrayList<>();
                t.args().forEach(x -> args.add(eval(x, scope)));
                yield Tests.apply(t.name(), eval(t.operand(), scope), args) != t.negated();
            }
            case Expr.Unary u -> switch (u.op()) {
                case "not" -> !Values.truthy(eval(u.operand(), scope));
                case "-" -> Operators.negate(eval(u.operand(), scope));
                default -> eval(u.operand(), scope);
            };
            case Expr.Binary b -> binary(b, scope);
            case Expr.Compare c -> compare(c, scope);
            case Expr.Conditional c -> Values.truthy(eval(c.cond(), scope)) ? eval(c.then(), scope)
                    : c.otherwise() == null ? new Undefined("conditional expression had no else") : eval(c.otherwise(), scope);
        };
    }

    private Object evalOrNull(Expr e, Scope scope) {
        return e == null ? null : eval(e, scope);
    }

    private Object binary(Expr.Binary b, Scope scope) {
        switch (b.op()) {
            case "and" -> {
                Object left = eval(b.left(), scope);
                return Values.truthy(left) ? eval(b.right(), scope) : left;
            }
            case "or" -> {
                Object left = eval(b.left(), scope);
                return Values.truthy(left) ? left : eval(b.right(), scope);
            }
            case "~" -> {
                return Values.str(eval(b.left(), scope)) + Values.str(eval(b.right(), scope));
            }
            default -> {
                return Operators.binary(b.op(), eval(b.left(), scope), eval(b.right(), scope));
            }
        }
    }

    private boolean compare(Expr.Compare c, Scope scope) {
        Object left = eval(c.first(), scope);
        for (int i = 0; i < c.ops().size(); i++) {
            Object right = eval(c.rest().get(i), scope);
            boolean ok = switch (c.ops().get(i)) {
                case "==" -> Values.equal(left, right);
                case "!=" -> !Values.equal(left, right);
                case "<" -> Values.compare(left, right) < 0;
                case "<=" -> Values.compare(left, right) <= 0;
                case ">" -> Values.compare(left, right) > 0;
                case ">=" -> Values.compare(left, right) >= 0;
                case "in" -> Values.contains(right, left);
                default -> !Values.contains(right, left); // "not in"
            };
            if (!ok) {
                return false;
            }
            left = right;
        }
        return true;
    }

    private Object call(Expr.Call c, Scope scope) {
        if (c.callee() instanceof Expr.GetAttr g) {
            Object target = eval(g.target(), scope);
            Args a = args(g.name(), c.args(), c.kwargs(), scope);
            Object result = Methods.call(target, g.name(), a);
            if (result != Methods.NO_METHOD) {
                return result;
            }
            return invoke(Access.attribute(target, g.name()), a);
        }
        Object callee = eval(c.callee(), scope);
        String name = c.callee() instanceof Expr.Name n ? n.name() : "expression";
        return invoke(callee, args(name, c.args(), c.kwargs(), scope));
    }

    private static Object invoke(Object callee, Args a) {
        if (callee instanceof JinjaCallable f) {
            return f.call(a.positional(), a.keywords());
        }
        if (callee instanceof Undefined u) {
            throw new TemplateException("cannot call " + a.what() + "(): " + u.hint());
        }
        throw new TemplateException("'" + Values.typeName(callee) + "' object is not callable: " + a.what());
    }

    private Args args(String what, List<Expr> positional, Map<String, Expr> keywords, Scope scope) {
        List<Object> values = new ArrayList<>();
        positional.forEach(x -> values.add(eval(x, scope)));
        Map<String, Object> kw = new LinkedHashMap<>();
        keywords.forEach((k, x) -> kw.put(k, eval(x, scope)));
        return new Args(what, values, kw);
    }
}
