package io.nemotron.core.engine;

/** How a request ended, as the API reports it ({@code tool_calls} is decided by the service's parser). */
public enum FinishReason {
    STOP("stop"),
    LENGTH("length"),
    CANCELLED("cancelled"),
    /** The deadline passed before the request finished. */
    EXPIRED("expired"),
    ERROR("error");

    private final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static FinishReason of(StopReason reason) {
        return reason == StopReason.STOP ? STOP : LENGTH;
    }
}
