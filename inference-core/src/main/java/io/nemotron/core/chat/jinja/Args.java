package io.nemotron.core.chat.jinja;

import java.util.List;
import java.util.Map;

/** Evaluated call arguments, read Python-style by position or keyword. {@code what} names the callee in errors. */
record Args(String what, List<Object> positional, Map<String, Object> keywords) {
    Object get(int index, String name, Object fallback) {
        if (index < positional.size()) {
            return positional.get(index);
        }
        return keywords.containsKey(name) ? keywords.get(name) : fallback;
    }

    /** A keyword-only argument, or {@code fallback}. */
    Object keyword(String name, Object fallback) {
        return keywords.getOrDefault(name, fallback);
    }

    String string(int index, String name, String fallback) {
        Object v = get(index, name, fallback);
        if (v == null || v instanceof Undefined) {
            return fallback;
        }
        if (!(v instanceof String s)) {
            throw new TemplateException(what + ": argument '" + name + "' must be a string, got " + Values.typeName(v));
        }
        return s;
    }

    long integer(int index, String name, long fallback) {
        Object v = get(index, name, null);
        if (v == null || v instanceof Undefined) {
            return fallback;
        }
        if (!Values.isIntegral(v)) {
            throw new TemplateException(what + ": argument '" + name + "' must be an integer, got " + Values.typeName(v));
        }
        return Values.toLong(v);
    }

    boolean flag(int index, String name) {
        return Values.truthy(get(index, name, false));
    }
}
