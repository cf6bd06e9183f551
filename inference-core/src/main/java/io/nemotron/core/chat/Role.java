package io.nemotron.core.chat;

import java.util.Locale;

/** Message roles of the chat request; {@link #wire()} is the name templates compare against. */
public enum Role {
    SYSTEM, USER, ASSISTANT, TOOL;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Null when {@code wire} is not a role. */
    static Role fromWire(String wire) {
        for (Role r : values()) {
            if (r.wire().equals(wire)) {
                return r;
            }
        }
        return null;
    }
}
