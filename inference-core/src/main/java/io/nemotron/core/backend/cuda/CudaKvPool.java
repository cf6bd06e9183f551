package io.nemotron.core.backend.cuda;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelStats;

/**
 * BF16 or FP8 (E4M3 codes, {@code --kv-cache-dtype fp8}) paged K/V of every FULL-attention layer in device memory, in the layout the kernels read (paged_kv.cuh): per
 * layer one allocation for K and one for V, each {@code [numBlocks][kvHeads][blockSize][headDim]}, so the tokens of one
 * kv head in one block are contiguous. Slot s = block·blockSize + offset, exactly {@code StepBatch.slotMapping}.
 * Layers without FULL attention hold nothing. Freed by the backend that made it.
 */
final class CudaKvPool implements KvPool, AutoCloseable {
    private final DeviceBuffer[] keys;     // [layer], null without FULL attention
    private final DeviceBuffer[] values;
    private final int numBlocks;
    private final int blockSize;
    private final int blockSizeLog2;
    private final long bytes;
    private final KvCacheDtype dtype;

    CudaKvPool(CudaDevice device, ModelConfig config, int numBlocks, int blockSize, KvCacheDtype dtype) {
        checkDtype(dtype);
        if (numBlocks < 1 || blockSize < 1 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("KV pool needs >= 1 block and a power-of-two block size, got "
                    + numBlocks + " x " + blockSize);
        }
        this.dtype = dtype;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.blockSizeLog2 = Integer.numberOfTrailingZeros(blockSize);
        int layers = config.numLayers();
        keys = new DeviceBuffer[layers];
        values = new DeviceBuffer[layers];
        long total = 0;
        try {
            for (int i = 0; i < layers; i++) {
                if (config.blocks().get(i).attention() instanceof AttentionKind.Full full) {
                    long layerBytes = (long) numBlocks * full.kvHeads() * blockSize * config.headDim() * dtype.bytes();
                    keys[i] = device.allocate(layerBytes, "K cache of layer " + i + " (" + numBlocks + " blocks)");
                    values[i] = device.allocate(layerBytes, "V cache of layer " + i + " (" + numBlocks + " blocks)");
                    // zeroed once so that a stray read shows zeros rather than old data (no step reads unwritten slots)
                    keys[i].fill((byte) 0);
                    values[i].fill((byte) 0);
                    total += 2 * layerBytes;
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.bytes = total;
    }

    /** K and V of every FULL layer for one block, at the cache's element width. */
    static long bytesPerBlock(ModelConfig config, int blockSize, KvCacheDtype dtype) {
        checkDtype(dtype);
        return ModelStats.of(config).kvBytesPerToken(dtype.bytes()) * blockSize;
    }

    /** The CUDA kernels read BF16 or FP8 caches; an FP32 cache is refused naming the flag that asks for it. */
    static void checkDtype(KvCacheDtype dtype) {
        if (dtype != KvCacheDtype.BF16 && dtype != KvCacheDtype.FP8) {
            throw new IllegalArgumentException("--kv-cache-dtype " + dtype.label() + " is not available on the CUDA"
                    + " backend (its attention kernels read bf16 or fp8 caches): use bf16, fp8 or auto");
        }
    }

    KvCacheDtype dtype() {
        return dtype;
    }

    DeviceBuffer keys(int layer) {
        return layerBuffer(keys, layer);
    }

    DeviceBuffer values(int layer) {
        return layerBuffer(values, layer);
    }

    private static DeviceBuffer layerBuffer(DeviceBuffer[] a, int layer) {
        DeviceBuffer b = a[layer];
        if (b == null) {
            throw new IllegalArgumentException("layer " + layer + " has no FULL attention, so no KV cache");
        }
        return b;
    }

    int blockSizeLog2() {
        return blockSizeLog2;
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

    @Override
    public void close() {
        for (DeviceBuffer[] a : new DeviceBuffer[][] {keys, values}) {
            for (DeviceBuffer b : a) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }
}
