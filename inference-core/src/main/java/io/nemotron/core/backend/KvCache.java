package io.nemotron.core.backend;

/**
 * One sequence's key/value cache; its storage belongs to the backend that made it. {@link #length()} is the
 * number of positions already written (the next token's position).
 */
public interface KvCache {
    int capacity();

    int length();

    /** Marks positions [0, length) as filled; the model advances it after each forward. */
    void setLength(int length);
}
