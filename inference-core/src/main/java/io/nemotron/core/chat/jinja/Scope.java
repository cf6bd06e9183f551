package io.nemotron.core.chat.jinja;

import java.util.HashMap;
import java.util.Map;

/**
 * Variables visible at one point. jinja2 opens a fresh scope for each for-loop iteration and each macro call
 * ({@code set} inside them does not leak out); {@code if} opens none.
 */
final class Scope {
    private final Scope parent;
    private final Map<String, Object> vars = new HashMap<>();

    Scope(Scope parent) {
        this.parent = parent;
    }

    Object lookup(String name) {
        for (Scope s = this; s != null; s = s.parent) {
            if (s.vars.containsKey(name)) {
                return s.vars.get(name);
            }
        }
        return Undefined.named(name);
    }

    void set(String name, Object value) {
        vars.put(name, value);
    }
}
