package io.nemotron.core.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code obj.name}, {@code obj[key]} and {@code obj[a:b:c]} with Python indexing; missing things are undefined. */
final class Access {
    private Access() {}

    static Object attribute(Object target, String name) {
        return switch (target) {
            case Map<?, ?> map -> map.containsKey(name) ? map.get(name) : Undefined.missing(target, name);
            case HasAttributes h -> h.attribute(name);
            case Undefined u -> u;
            default -> Undefined.missing(target, name);
        };
    }

    /** jinja2's attribute getter for filters ({@code map(attribute='a.b')}): dots walk, digits index. */
    static Object path(Object target, String dotted) {
        Object v = target;
        for (String part : dotted.split("\\.")) {
            v = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? item(v, Long.parseLong(part)) : item(v, part);
        }
        return v;
    }

    static Object item(Object target, Object key) {
        switch (target) {
            case List<?> list when Values.isIntegral(key) -> {
                int i = index(Values.toLong(key), list.size());
                return i < 0 ? new Undefined("list index out of range") : list.get(i);
            }
            case String s when Values.isIntegral(key) -> {
                int[] cps = s.codePoints().toArray();
                int i = index(Values.toLong(key), cps.length);
                return i < 0 ? new Undefined("string index out of range") : Character.toString(cps[i]);
            }
            case Map<?, ?> map -> {
                return map.containsKey(key) ? map.get(key) : Undefined.missing(target, key);
            }
            case HasAttributes h when key instanceof String name -> {
                return h.attribute(name);
            }
            case Undefined u -> {
                return u;
            }
            default -> {
                return Undefined.missing(target, key);
            }
        }
    }

    private static int index(long i, int size) {
        long j = i < 0 ? i + size : i;
        return j < 0 || j >= size ? -1 : (int) j;
    }

    /** Python slice semantics, including negative bounds and steps ({@code [::-1]} reverses). */
    static Object slice(Object target, Object start, Object stop, Object step) {
        List<Object> items;
        boolean isString = target instanceof String;
        if (target instanceof Undefined u) {
            return u;
        }
        if (isString) {
            items = Values.iterate(target);
        } else if (target instanceof List<?> list) {
            items = new ArrayList<>(list);
        } else {
            throw new TemplateException("'" + Values.typeName(target) + "' object is not subscriptable");
        }
        int n = items.size();
        long st = isNone(step) ? 1 : Values.toLong(step);
        if (st == 0) {
            throw new TemplateException("slice step cannot be zero");
        }
        long lo;
        long hi;
        if (st > 0) {
            lo = isNone(start) ? 0 : clamp(Values.toLong(start), n, 0, n);
            hi = isNone(stop) ? n : clamp(Values.toLong(stop), n, 0, n);
        } else {
            lo = isNone(start) ? n - 1 : clamp(Values.toLong(start), n, -1, n - 1);
            hi = isNone(stop) ? -1 : clamp(Values.toLong(stop), n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
            out.add(items.get((int) i));
        }
        if (isString) {
            StringBuilder s = new StringBuilder();
            out.forEach(c -> s.append((String) c));
            return s.toString();
        }
        return out;
    }

    private static long clamp(long i, int n, long min, long max) {
        long j = i < 0 ? i + n : i;
        return Math.max(min, Math.min(max, j));
    }

    private static boolean isNone(Object v) {
        return v == null || v instanceof Undefined;
    }
}
