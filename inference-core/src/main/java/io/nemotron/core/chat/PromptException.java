package io.nemotron.core.chat;

/** The model side of prompt building is unusable: a missing folder, a broken tokenizer_config.json. */
public final class PromptException extends RuntimeException {
    public PromptException(String message) {
        super(message);
    }
}
