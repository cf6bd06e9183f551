package io.nemotron.core.config;

/** A config.json we cannot serve exactly: missing key, bad value, or a feature we do not implement. */
public class ModelConfigException extends RuntimeException {
    public ModelConfigException(String message) {
        super(message);
    }
}
