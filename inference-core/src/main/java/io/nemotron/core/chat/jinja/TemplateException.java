package io.nemotron.core.chat.jinja;

/** A template that cannot be parsed or rendered. The message names the template line where known. */
public class TemplateException extends RuntimeException {
    public TemplateException(String message) {
        super(message);
    }
}
