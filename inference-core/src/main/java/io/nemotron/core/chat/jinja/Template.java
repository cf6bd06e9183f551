package io.nemotron.core.chat.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A compiled chat template. Renders exactly as Python jinja2 does under Hugging Face's
 * {@code apply_chat_template} ({@code trim_blocks}, {@code lstrip_blocks}, loopcontrols, no autoescape,
 * {@code tojson} without ASCII escaping, {@code raise_exception}).
 *
 * <p>Variables passed to {@link #render} must be template values: null, Boolean, Number (integers become
 * Long, others Double), String, List and Map of those, or a {@link JinjaCallable}. A compiled template is
 * immutable and may be rendered from several threads at once.
 */
public final class Template {
    private final List<Node> nodes;
    private final java.util.Set<String> names;
    private final String source;

    private Template(String source, Parser.Parsed parsed) {
        this.source = source;
        this.nodes = parsed.nodes();
        this.names = parsed.names();
    }

    /** Parses {@code source}; a syntax error throws {@link TemplateException} naming the line. */
    public static Template compile(String source) {
        return new Template(source, Parser.parse(source));
    }

    public String source() {
        return source;
    }

    /** Whether the template reads variable {@code name} anywhere (for example {@code tools}). */
    public boolean readsVariable(String name) {
        return names.contains(name);
    }

    /** Renders with {@code variables}; {@code raise_exception} in the template throws {@link RaisedException}. */
    public String render(Map<String, ?> variables) {
        Scope globals = new Scope(null);
        Globals.install(globals);
        Scope context = new Scope(globals);
        variables.forEach((k, v) -> context.set(k, normalize(v)));
        return Interpreter.render(nodes, new Scope(context));
    }

    /** Java callers hand in Integers, arrays of maps, etc.: bring them onto the template value model. */
    private static Object normalize(Object v) {
        return switch (v) {
            case null -> null;
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Float f -> (double) f;
            case Map<?, ?> m -> {
                Map<Object, Object> out = new java.util.LinkedHashMap<>();
                m.forEach((k, x) -> out.put(normalize(k), normalize(x)));
                yield out;
            }
            case List<?> l -> {
                List<Object> out = new ArrayList<>(l.size());
                l.forEach(x -> out.add(normalize(x)));
                yield out;
            }
            default -> v;
        };
    }
}
