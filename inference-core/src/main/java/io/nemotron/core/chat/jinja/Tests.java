package io.nemotron.core.chat.jinja;

import java.util.List;
import java.util.Map;

/** jinja2's built-in tests ({@code x is defined}, {@code x is string}, ...). */
final class Tests {
    private Tests() {}

    static boolean apply(String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "string" -> v instanceof String;
            case "number" -> Values.isNumber(v);
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "mapping" -> v instanceof Map<?, ?>;
            case "iterable" -> v instanceof String || v instanceof List<?> || v instanceof Map<?, ?> || v instanceof Undefined;
            case "sequence" -> v instanceof String || v instanceof List<?> || v instanceof Map<?, ?>;
            case "callable" -> v instanceof JinjaCallable;
            case "lower" -> v instanceof String s && s.equals(s.toLowerCase());
            case "upper" -> v instanceof String s && s.equals(s.toUpperCase());
            case "odd" -> Math.floorMod(Values.toLong(v), 2) == 1;
            case "even" -> Math.floorMod(Values.toLong(v), 2) == 0;
            case "divisibleby" -> Math.floorMod(Values.toLong(v), Values.toLong(arg(name, args))) == 0;
            case "eq", "equalto", "==" -> Values.equal(v, arg(name, args));
            case "ne", "!=" -> !Values.equal(v, arg(name, args));
            case "lt", "lessthan", "<" -> Values.compare(v, arg(name, args)) < 0;
            case "le", "<=" -> Values.compare(v, arg(name, args)) <= 0;
            case "gt", "greaterthan", ">" -> Values.compare(v, arg(name, args)) > 0;
            case "ge", ">=" -> Values.compare(v, arg(name, args)) >= 0;
            case "in" -> Values.contains(arg(name, args), v);
            // identity in Python; boxed scalars have no stable identity here, so same type and value counts
            case "sameas" -> v == arg(name, args) || (v != null && v.equals(arg(name, args)));
            default -> throw new TemplateException("no test named '" + name + "'");
        };
    }

    private static Object arg(String test, List<Object> args) {
        if (args.isEmpty()) {
            throw new TemplateException("test '" + test + "' needs an argument");
        }
        return args.get(0);
    }
}
