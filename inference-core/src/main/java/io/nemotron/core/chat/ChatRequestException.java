package io.nemotron.core.chat;

import io.nemotron.core.engine.InvalidRequestException;

/** A chat request the prompt builder refuses; the message starts with the offending field path. */
public final class ChatRequestException extends InvalidRequestException {
    public ChatRequestException(String message) {
        super(message);
    }
}
