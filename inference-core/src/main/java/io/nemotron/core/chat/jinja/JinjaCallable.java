package io.nemotron.core.chat.jinja;

import java.util.List;
import java.util.Map;

/** A function callable from a template: globals such as {@code namespace()}, and macros. */
@FunctionalInterface
public interface JinjaCallable {
    Object call(List<Object> args, Map<String, Object> kwargs);
}
