package io.nemotron.core.backend.cpu;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.ModelConfig;

/**
 * FP32 paged K/V of every FULL-attention layer: slot s of layer l is row s of {@code keys[l]} / {@code values[l]},
 * [numBlocks·blockSize][kvHeads·headDim]. Layers without FULL attention hold nothing.
 */
final class CpuKvPool implements KvPool {
    final float[][] keys;    // [layer] -> [numBlocks·blockSize · kvHeads·headDim], null without FULL attention
    final float[][] values;
    private final int numBlocks;
    private final int blockSize;
    private final long bytes;

    CpuKvPool(ModelConfig config, int numBlocks, int blockSize) {
        if (numBlocks < 1 || blockSize < 1 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("KV pool needs >= 1 block and a power-of-two block size, got "
                    + numBlocks + " x " + blockSize);
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        int layers = config.numLayers();
        keys = new float[layers][];
        values = new float[layers][];
        long total = 0;
        for (int i = 0; i < layers; i++) {
            if (config.blocks().get(i).attention() instanceof AttentionKind.Full full) {
                int width = full.kvHeads() * config.headDim();
                int floats = Math.multiplyExact(Math.multiplyExact(numBlocks, blockSize), width);
                keys[i] = new float[floats];
                values[i] = new float[floats];
                total += 2L * floats * Float.BYTES;
            }
        }
        this.bytes = total;
    }

    static long bytesPerBlock(ModelConfig config, int blockSize) {
        long perToken = 0;
        for (var b : config.blocks()) {
            if (b.attention() instanceof AttentionKind.Full full) {
                perToken += 2L * full.kvHeads() * config.headDim() * Float.BYTES;
            }
        }
        return perToken * blockSize;
    }

    @Override
    public int numBlocks() {
        return numBlocks;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long bytes() {
        return bytes;
    }
}
