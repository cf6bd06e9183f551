package io.nemotron.core.chat.jinja;

/** A template value read with {@code .name} that is not a dict: {@code loop} and {@code namespace()} objects. */
interface HasAttributes {
    /** The attribute, or an {@link Undefined}. */
    Object attribute(String name);
}
