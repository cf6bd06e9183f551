package io.nemotron.core.bench;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.RandomCheckpoint;
import java.util.Locale;

/**
 * Llama shapes the decode benchmark writes with random weights. {@code 1b} is bandwidth-bound at batch 1;
 * {@code 110m} is small enough that fixed per-token costs (hand-offs, attention, sampling) show.
 */
public enum BenchShape {
    B1("1b", 2048, 16, 32, 8, 8192, 32000),
    M110("110m", 768, 12, 12, 12, 2048, 32000);

    private final String label;
    private final int dim;
    private final int layers;
    private final int heads;
    private final int kvHeads;
    private final int hiddenDim;
    private final int vocab;

    BenchShape(String label, int dim, int layers, int heads, int kvHeads, int hiddenDim, int vocab) {
        this.label = label;
        this.dim = dim;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.hiddenDim = hiddenDim;
        this.vocab = vocab;
    }

    public String label() {
        return label;
    }

    public RandomCheckpoint.Spec spec(DType dtype) {
        return new RandomCheckpoint.Spec(dim, layers, heads, kvHeads, hiddenDim, vocab, dtype, 42);
    }

    public static BenchShape parse(String text) {
        for (BenchShape s : values()) {
            if (s.label.equals(text.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown benchmark shape '" + text + "' (1b, 110m)");
    }
}
