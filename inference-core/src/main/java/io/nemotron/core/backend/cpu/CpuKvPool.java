package io.nemotron.core.backend.cpu;

import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.ModelConfig;

/**
 * Paged K/V of every FULL-attention layer, in the element type of a {@link KvCacheFormat}: one {@link KvLayer} per
 * such layer (FP32, BF16 or FP8 with the layer's K and V scales), each {@code numBlocks} blocks of {@code blockSize}
 * slots. Layers without FULL attention hold nothing.
 */
final class CpuKvPool implements KvPool {
    private final KvLayer[] layers;   // [layer], null without FULL attention
    private final int numBlocks;
    private final int blockSize;
    private final long bytes;

    CpuKvPool(ModelConfig config, KvCacheFormat format, int numBlocks, int blockSize) {
        if (numBlocks < 1 || blockSize < 1 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("KV pool needs >= 1 block and a power-of-two block size, got "
                    + numBlocks + " x " + blockSize);
        }
        checkLayers(config, format);
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        int shift = Integer.numberOfTrailingZeros(blockSize);
        int headDim = config.headDim();
        layers = new KvLayer[config.numLayers()];
        long total = 0;
        for (int i = 0; i < layers.length; i++) {
            if (config.blocks().get(i).attention() instanceof AttentionKind.Full full) {
                int heads = full.kvHeads();
                layers[i] = switch (format.dtype()) {
                    case FP32 -> new KvLayerF32(numBlocks, shift, heads, headDim);
                    case BF16 -> new KvLayerBF16(numBlocks, shift, heads, headDim);
                    case FP8 -> new KvLayerFP8(numBlocks, shift, heads, headDim, format.kScale(i), format.vScale(i));
                };
                total += layers[i].bytes();
            }
        }
        this.bytes = total;
    }

    static void checkLayers(ModelConfig config, KvCacheFormat format) {
        if (format.kScales().length != config.numLayers()) {
            throw new IllegalArgumentException("KV cache format has scales for " + format.kScales().length
                    + " layers, the model has " + config.numLayers());
        }
    }

    KvLayer layer(int layer) {
        KvLayer kv = layers[layer];
        if (kv == null) {
            throw new IllegalArgumentException("layer " + layer + " has no FULL attention and holds no K/V");
        }
        return kv;
    }

    /** Bytes of one block: every FULL layer's K and V of {@code blockSize} slots in {@code format}'s dtype. */
    static long bytesPerBlock(ModelConfig config, KvCacheFormat format, int blockSize) {
        long perSlot = 0;
        for (int i = 0; i < config.numLayers(); i++) {
            if (config.blocks().get(i).attention() instanceof AttentionKind.Full full) {
                perSlot += switch (format.dtype()) {
                    case FP32 -> KvLayerF32.bytesPerSlot(full.kvHeads(), config.headDim());
                    case BF16 -> KvLayerBF16.bytesPerSlot(full.kvHeads(), config.headDim());
                    case FP8 -> KvLayerFP8.bytesPerSlot(full.kvHeads(), config.headDim());
                };
            }
        }
        return perSlot * blockSize;
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
