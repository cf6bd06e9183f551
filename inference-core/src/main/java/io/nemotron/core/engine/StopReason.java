package io.nemotron.core.engine;

/** Why a sequence finished, with the OpenAI/vLLM wire name. */
public enum StopReason {
    /** EOS, a stop token id, or a stop string. */
    STOP("stop"),
    /** max_tokens reached. */
    LENGTH("length");

    private final String wireName;

    StopReason(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
