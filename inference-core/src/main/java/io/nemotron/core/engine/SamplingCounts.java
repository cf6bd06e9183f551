package io.nemotron.core.engine;

import java.util.Arrays;

/**
 * Per-sequence token statistics for the penalties: which ids occur in the prompt or output, and how often each
 * was generated. An open-addressing int map over the distinct ids seen, so a sequence costs memory in its
 * length, not in the vocabulary (an int[vocab] per sequence would be 0.5 MB for Llama-3), and applying the
 * penalties costs one pass over distinct ids. Not thread-safe: owned by one sequence.
 */
final class SamplingCounts {
    private static final int EMPTY = -1;

    private int[] keys;
    private int[] generated;   // times the id was generated; 0 for ids seen only in the prompt
    private int size;          // distinct ids stored
    // Insertion order of the distinct ids, so iteration does not scan empty slots.
    private int[] order;

    SamplingCounts(int expectedDistinct) {
        int capacity = Integer.highestOneBit(Math.max(16, expectedDistinct * 2) - 1) << 1;
        keys = new int[capacity];
        Arrays.fill(keys, EMPTY);
        generated = new int[capacity];
        order = new int[capacity / 2];
    }

    void addPrompt(int id) {
        slotOf(id);
    }

    void addGenerated(int id) {
        generated[slotOf(id)]++;
    }

    int distinct() {
        return size;
    }

    /** The i-th distinct id, 0 <= i < distinct(). */
    int idAt(int i) {
        return order[i];
    }

    /** Times the i-th distinct id was generated. */
    int generatedAt(int i) {
        return generated[find(order[i])];
    }

    private int find(int id) {
        int mask = keys.length - 1;
        for (int slot = mix(id) & mask; ; slot = (slot + 1) & mask) {
            if (keys[slot] == id) {
                return slot;
            }
        }
    }

    private int slotOf(int id) {
        if (size + 1 > keys.length / 2) {
            grow();
        }
        int mask = keys.length - 1;
        int slot = mix(id) & mask;
        while (keys[slot] != EMPTY) {
            if (keys[slot] == id) {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = id;
        order[size++] = id;
        return slot;
    }

    private void grow() {
        int[] oldKeys = keys;
        int[] oldGenerated = generated;
        keys = new int[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        generated = new int[keys.length];
        order = Arrays.copyOf(order, keys.length / 2);
        int mask = keys.length - 1;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                int slot = mix(oldKeys[i]) & mask;
                while (keys[slot] != EMPTY) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = oldKeys[i];
                generated[slot] = oldGenerated[i];
            }
        }
    }

    private static int mix(int id) {
        return id * 0x9E3779B9 >>> 7 ^ id;
    }
}
