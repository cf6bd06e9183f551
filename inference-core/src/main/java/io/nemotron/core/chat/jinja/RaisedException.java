package io.nemotron.core.chat.jinja;

/**
 * Thrown by the template itself through {@code raise_exception(msg)}: the template refuses the conversation
 * (for example "Conversation roles must alternate"). Kept apart from {@link TemplateException} so callers can
 * report it as bad input rather than a broken template.
 */
public final class RaisedException extends TemplateException {
    public RaisedException(String message) {
        super(message);
    }
}
