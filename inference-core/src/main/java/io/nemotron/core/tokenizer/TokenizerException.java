package io.nemotron.core.tokenizer;

/** A tokenizer that cannot be loaded or an id/token that it does not know. The message names the bad input. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
