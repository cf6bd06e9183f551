package io.nemotron.core.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python methods on str, dict and list that templates call ({@code content.strip()}, {@code m.get('x')}).
 * Mutating methods ({@code list.append}) are left out, as in HF's immutable sandbox.
 */
final class Methods {
    private Methods() {}

    /** Marks "no such method" (distinct from a None result), so the caller can fall back to an attribute. */
    static final Object NO_METHOD = new Object();

    static Object call(Object target, String name, Args a) {
        return switch (target) {
            case String s -> string(s, name, a);
            case Map<?, ?> m -> dict(m, name, a);
            case List<?> l -> list(l, name, a);
            case null, default -> NO_METHOD;
        };
    }

    private static Object string(String s, String name, Args a) {
        return switch (name) {
            case "strip" -> Strings.strip(s, a.string(0, "chars", null));
            case "lstrip" -> Strings.lstrip(s, a.string(0, "chars", null));
            case "rstrip" -> Strings.rstrip(s, a.string(0, "chars", null));
            case "split" -> Strings.split(s, a.string(0, "sep", null), a.integer(1, "maxsplit", -1));
            case "startswith" -> affix(s, a, true);
            case "endswith" -> affix(s, a, false);
            case "replace" -> Strings.replace(s, a.string(0, "old", ""), a.string(1, "new", ""), a.integer(2, "count", -1));
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "find" -> (long) s.indexOf(a.string(0, "sub", ""));
            case "count" -> (long) Strings.split(s, a.string(0, "sub", ""), -1).size() - 1;
            case "join" -> {
                StringBuilder out = new StringBuilder();
                List<Object> items = Values.iterate(a.get(0, "iterable", List.of()));
                for (int i = 0; i < items.size(); i++) {
                    out.append(i > 0 ? s : "").append(Values.str(items.get(i)));
                }
                yield out.toString();
            }
            case "isdigit" -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isspace" -> !s.isEmpty() && s.chars().allMatch(c -> Strings.isSpace((char) c));
            default -> NO_METHOD;
        };
    }

    private static boolean affix(String s, Args a, boolean prefix) {
        Object arg = a.get(0, "prefix", "");
        List<Object> options = arg instanceof List<?> l ? new ArrayList<>(l) : List.of(arg);
        for (Object o : options) {
            if (!(o instanceof String p)) {
                throw new TemplateException((prefix ? "startswith" : "endswith") + " needs str arguments, got " + Values.typeName(o));
            }
            if (prefix ? s.startsWith(p) : s.endsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private static Object dict(Map<?, ?> m, String name, Args a) {
        return switch (name) {
            case "get" -> {
                Object key = a.get(0, "key", null);
                yield m.containsKey(key) ? m.get(key) : a.get(1, "default", null);
            }
            case "items" -> Filters.apply("items", m, a);
            case "keys" -> new ArrayList<>(m.keySet());
            case "values" -> new ArrayList<>(m.values());
            default -> NO_METHOD;
        };
    }

    private static Object list(List<?> l, String name, Args a) {
        return switch (name) {
            case "index" -> {
                Object x = a.get(0, "value", null);
                for (int i = 0; i < l.size(); i++) {
                    if (Values.equal(l.get(i), x)) {
                        yield (long) i;
                    }
                }
                throw new TemplateException(Values.repr(x) + " is not in list");
            }
            case "count" -> l.stream().filter(x -> Values.equal(x, a.get(0, "value", null))).count();
            default -> NO_METHOD;
        };
    }

    /** Python {@code str.title()}: a letter after a non-letter is upper-cased, other letters lower-cased. */
    static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean prevLetter = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevLetter = Character.isLetter(c);
        }
        return out.toString();
    }
}
