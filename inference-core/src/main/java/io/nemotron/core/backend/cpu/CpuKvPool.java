package io.nemotron.core.backend.cpu;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelStats;

/**
 * FP32 paged K/V of every FULL-attention layer. Values: slot s of layer l is row s of {@code values[l]},
 * [numBlocks·blockSize][kvHeads·headDim]; keys: each block transposed, [block][kvHead][dim][position in block]
 * (see {@link Attention#pagedKeyIndex}). Layers without FULL attention hold nothing.
 */
final class CpuKvPool implements KvPool {
    final float[][] keys;    // [layer] -> [numBlocks·blockSize · kvHeads·headDim], null without FULL attention
    final float[][] values;
    private final int numBlocks;
    private final int blockSize;
    private final int blockShift;
    private final int headDim;
    private final int[] kvHeads;   // [layer]
    private final long bytes;

    CpuKvPool(ModelConfig config, int numBlocks, int blockSize) {
        if (numBlocks < 1 || blockSize < 1 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("KV pool needs >= 1 block and a power-of-two block size, got "
                    + numBlocks + " x " + blockSize);
        }
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.blockShift = Integer.numberOfTrailingZeros(blockSize);
        this.headDim = config.headDim();
        int layers = config.numLayers();
        kvHeads = new int[layers];
        keys = new float[layers][];
        values = new float[layers][];
        long total = 0;
        for (int i = 0; i < layers; i++) {
            if (config.blocks().get(i).attention() instanceof AttentionKind.Full full) {
                kvHeads[i] = full.kvHeads();
                int width = full.kvHeads() * config.headDim();
                int floats = Math.multiplyExact(Math.multiplyExact(numBlocks, blockSize), width);
                keys[i] = new float[floats];
                values[i] = new float[floats];
                total += 2L * floats * Float.BYTES;
            }
        }
        this.bytes = total;
    }

    /** Stores the K and V rows of one token (k[kOff..], v[vOff..], kvHeads·headDim each) into its slot of a layer. */
    void write(int layer, int slot, float[] k, int kOff, float[] v, int vOff) {
        int heads = kvHeads[layer];
        int width = heads * headDim;
        System.arraycopy(v, vOff, values[layer], slot * width, width);
        float[] keyPool = keys[layer];
        for (int h = 0; h < heads; h++) {
            int dst = Attention.pagedKeyIndex(slot, h, 0, heads, headDim, blockShift);
            int src = kOff + h * headDim;
            for (int d = 0; d < headDim; d++) {
                keyPool[dst + (d << blockShift)] = k[src + d];
            }
        }
    }

    static long bytesPerBlock(ModelConfig config, int blockSize) {
        return ModelStats.of(config).kvBytesPerToken(Float.BYTES) * blockSize;   // FP32 K and V of every FULL layer
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
