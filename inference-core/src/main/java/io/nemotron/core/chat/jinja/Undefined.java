package io.nemotron.core.chat.jinja;

/**
 * jinja2's default {@code Undefined}: falsy, renders as empty, iterates as empty, and fails on arithmetic.
 * Unlike jinja2, attribute access on it yields another undefined instead of failing (chainable), which only
 * makes more templates render. {@code hint} says what was missing, for error messages.
 */
record Undefined(String hint) {
    static Undefined named(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    static Undefined missing(Object owner, Object key) {
        return new Undefined("'" + Values.typeName(owner) + "' has no attribute or key " + Values.repr(key));
    }
}
