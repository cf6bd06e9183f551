package io.nemotron.core.chat;

/** The reasoning switch of Llama-Nemotron models ({@code "thinking": "on"|"off"} in the request). */
public enum Thinking {
    ON, OFF;

    public String wire() {
        return this == ON ? "on" : "off";
    }
}
