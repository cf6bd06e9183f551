package io.nemotron.core.chat.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code namespace(...)}: the one object a template may mutate ({@code set ns.x = ...}), so loops can carry state out. */
final class Namespace implements HasAttributes {
    private final Map<String, Object> attributes = new LinkedHashMap<>();

    static Namespace of(java.util.List<Object> args, Map<String, Object> kwargs) {
        Namespace ns = new Namespace();
        for (Object arg : args) {
            if (!(arg instanceof Map<?, ?> map)) {
                throw new TemplateException("namespace() takes only a dict as positional argument");
            }
            map.forEach((k, v) -> ns.attributes.put(Values.str(k), v));
        }
        ns.attributes.putAll(kwargs);
        return ns;
    }

    @Override
    public Object attribute(String name) {
        return attributes.containsKey(name) ? attributes.get(name) : new Undefined("namespace has no attribute '" + name + "'");
    }

    void set(String name, Object value) {
        attributes.put(name, value);
    }

    @Override
    public String toString() {
        return "<Namespace " + attributes.keySet() + ">";
    }
}
