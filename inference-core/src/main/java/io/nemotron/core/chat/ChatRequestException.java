package io.nemotron.core.chat;

/** A chat request the prompt builder refuses; the message starts with the offending field path. */
public final class ChatRequestException extends IllegalArgumentException {
    public ChatRequestException(String message) {
        super(message);
    }
}
