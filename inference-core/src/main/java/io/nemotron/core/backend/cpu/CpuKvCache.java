package io.nemotron.core.backend.cpu;

import io.nemotron.core.backend.KvCache;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.ModelConfig;

/**
 * Contiguous FP32 K/V storage of one sequence for every FULL-attention layer (other layers hold none).
 * Row p of a layer is the position-p key (or value) of all its kv heads: [capacity][kvHeads·headDim].
 */
final class CpuKvCache implements KvCache {
    final float[][] keys;    // [layer] -> [capacity · kvHeads·headDim], null for layers without FULL attention
    final float[][] values;
    private final int capacity;
    private int length;

    CpuKvCache(ModelConfig config, int capacity) {
        this.capacity = capacity;
        int layers = config.numLayers();
        keys = new float[layers][];
        values = new float[layers][];
        for (int i = 0; i < layers; i++) {
            if (config.blocks().get(i).attention() instanceof AttentionKind.Full full) {
                int width = full.kvHeads() * config.headDim();
                keys[i] = new float[Math.multiplyExact(capacity, width)];
                values[i] = new float[capacity * width];
            }
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void setLength(int length) {
        if (length < 0 || length > capacity) {
            throw new IllegalArgumentException("length " + length + " outside [0, " + capacity + "]");
        }
        this.length = length;
    }
}
