package io.nemotron.core.chat.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** jinja2's built-in filters that chat templates use, plus HF's {@code tojson}. */
final class Filters {
    private Filters() {}

    static Object apply(String name, Object v, Args a) {
        return switch (name) {
            case "tojson" -> PyJson.dumps(v, (int) a.integer(0, "indent", -1), Values.truthy(a.keyword("sort_keys", false)));
            case "trim" -> Strings.strip(Values.str(v), a.string(0, "chars", null));
            case "length", "count" -> Values.length(v);
            case "upper" -> Values.str(v).toUpperCase(Locale.ROOT);
            case "lower" -> Values.str(v).toLowerCase(Locale.ROOT);
            case "capitalize" -> capitalize(Values.str(v));
            case "title" -> Methods.title(Values.str(v));
            case "string" -> Values.str(v);
            case "safe", "e", "escape" -> v; // HF renders without autoescape: nothing to mark or escape
            case "default", "d" -> v instanceof Undefined || (a.flag(1, "boolean") && !Values.truthy(v))
                    ? a.get(0, "default_value", "") : v;
            case "first" -> {
                List<Object> items = Values.iterate(v);
                yield items.isEmpty() ? new Undefined("first() of an empty sequence") : items.get(0);
            }
            case "last" -> {
                List<Object> items = Values.iterate(v);
                yield items.isEmpty() ? new Undefined("last() of an empty sequence") : items.get(items.size() - 1);
            }
            case "join" -> join(v, a);
            case "list" -> Values.iterate(v);
            case "items" -> items(v);
            case "reverse" -> v instanceof String s ? new StringBuilder(s).reverse().toString() : reversed(v);
            case "replace" -> Strings.replace(Values.str(v), a.string(0, "old", ""), a.string(1, "new", ""),
                    a.integer(2, "count", -1));
            case "int" -> toInt(v, a);
            case "float" -> toFloat(v, a);
            case "abs" -> Values.isIntegral(v) ? (Object) Math.abs(Values.toLong(v)) : (Object) Math.abs(Values.toDouble(v));
            case "unique" -> new ArrayList<>(new LinkedHashSet<>(Values.iterate(v)));
            case "sort" -> sort(v, a);
            case "map" -> map(v, a);
            case "selectattr" -> select(v, a, true, true);
            case "rejectattr" -> select(v, a, true, false);
            case "select" -> select(v, a, false, true);
            case "reject" -> select(v, a, false, false);
            case "indent" -> indent(Values.str(v), a);
            case "wordcount" -> (long) Strings.split(Values.str(v), null, -1).size();
            case "dictsort" -> {
                List<Object> pairs = items(v);
                pairs.sort((x, y) -> Values.compare(((List<?>) x).get(0), ((List<?>) y).get(0)));
                yield pairs;
            }
            default -> throw new TemplateException("no filter named '" + name + "'");
        };
    }

    private static String join(Object v, Args a) {
        String sep = a.string(0, "d", "");
        String attribute = a.string(1, "attribute", null);
        StringBuilder out = new StringBuilder();
        List<Object> items = Values.iterate(v);
        for (int i = 0; i < items.size(); i++) {
            Object item = attribute == null ? items.get(i) : Access.path(items.get(i), attribute);
            out.append(i > 0 ? sep : "").append(Values.str(item));
        }
        return out.toString();
    }

    /** {@code dict|items} yields (key, value) pairs; pairs are 2-item lists here. */
    private static List<Object> items(Object v) {
        if (v instanceof Undefined) {
            return new ArrayList<>();
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw new TemplateException("items filter needs a mapping, got " + Values.typeName(v));
        }
        List<Object> pairs = new ArrayList<>();
        map.forEach((k, val) -> pairs.add(new ArrayList<>(java.util.Arrays.asList(k, val))));
        return pairs;
    }

    private static List<Object> reversed(Object v) {
        List<Object> items = Values.iterate(v);
        java.util.Collections.reverse(items);
        return items;
    }

    private static List<Object> sort(Object v, Args a) {
        boolean reverse = a.flag(0, "reverse");
        String attribute = a.string(2, "attribute", null);
        List<Object> items = Values.iterate(v);
        items.sort((x, y) -> {
            Object kx = attribute == null ? x : Access.path(x, attribute);
            Object ky = attribute == null ? y : Access.path(y, attribute);
            if (!a.flag(1, "case_sensitive") && kx instanceof String sx && ky instanceof String sy) {
                kx = sx.toLowerCase(Locale.ROOT);
                ky = sy.toLowerCase(Locale.ROOT);
            }
            return Values.compare(kx, ky);
        });
        if (reverse) {
            java.util.Collections.reverse(items);
        }
        return items;
    }

    /** {@code map(attribute='x', default=...)} or {@code map('filter', args...)}. */
    private static List<Object> map(Object v, Args a) {
        List<Object> out = new ArrayList<>();
        Object attribute = a.keyword("attribute", null);
        for (Object item : Values.iterate(v)) {
            if (attribute != null) {
                Object x = Access.path(item, Values.str(attribute));
                out.add(x instanceof Undefined && a.keywords().containsKey("default") ? a.keywords().get("default") : x);
            } else {
                if (a.positional().isEmpty()) {
                    throw new TemplateException("map() needs a filter name or attribute=");
                }
                String filter = Values.str(a.positional().get(0));
                List<Object> rest = a.positional().subList(1, a.positional().size());
                out.add(apply(filter, item, new Args(filter, rest, Map.of())));
            }
        }
        return out;
    }

    /** selectattr/rejectattr ({@code byAttribute}) and select/reject: keep items whose test result equals {@code keep}. */
    private static List<Object> select(Object v, Args a, boolean byAttribute, boolean keep) {
        List<Object> pos = a.positional();
        int testAt = byAttribute ? 1 : 0;
        if (byAttribute && pos.isEmpty()) {
            throw new TemplateException("selectattr/rejectattr need an attribute name");
        }
        String test = pos.size() > testAt ? Values.str(pos.get(testAt)) : null;
        List<Object> testArgs = pos.size() > testAt + 1 ? pos.subList(testAt + 1, pos.size()) : List.of();
        List<Object> out = new ArrayList<>();
        for (Object item : Values.iterate(v)) {
            Object x = byAttribute ? Access.path(item, Values.str(pos.get(0))) : item;
            boolean passed = test == null ? Values.truthy(x) : Tests.apply(test, x, testArgs);
            if (passed == keep) {
                out.add(item);
            }
        }
        return out;
    }

    private static String indent(String s, Args a) {
        Object width = a.get(0, "width", 4L);
        String pad = width instanceof String w ? w : " ".repeat((int) Values.toLong(width));
        boolean first = a.flag(1, "first");
        boolean blank = a.flag(2, "blank");
        String[] lines = s.split("\n", -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            boolean padIt = (i > 0 || first) && (blank || !lines[i].isEmpty());
            out.append(i > 0 ? "\n" : "").append(padIt ? pad : "").append(lines[i]);
        }
        return out.toString();
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static Object toInt(Object v, Args a) {
        try {
            return switch (v) {
                case Double d -> (long) d.doubleValue();
                case String s -> (long) Double.parseDouble(s.strip());
                default -> Values.toLong(v);
            };
        } catch (RuntimeException e) {
            return a.get(0, "default", 0L);
        }
    }

    private static Object toFloat(Object v, Args a) {
        try {
            return v instanceof String s ? Double.parseDouble(s.strip()) : Values.toDouble(v);
        } catch (RuntimeException e) {
            return a.get(0, "default", 0.0);
        }
    }

    static Map<Object, Object> dict(Args a) {
        Map<Object, Object> out = new LinkedHashMap<>();
        for (Object arg : a.positional()) {
            if (arg instanceof Map<?, ?> m) {
                out.putAll(m);
            }
        }
        out.putAll(a.keywords());
        return out;
    }
}
