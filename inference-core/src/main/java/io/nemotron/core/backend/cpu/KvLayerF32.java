package io.nemotron.core.backend.cpu;

/**
 * FP32 K/V: values row-major, slot s at {@code s · kvHeads·headDim}; keys transposed per block,
 * [block][kvHead][dim][position in block] ({@link Attention#pagedKeyIndex}), read by {@link Attention}.
 */
final class KvLayerF32 implements KvLayer {
    final float[] keys;
    final float[] values;
    private final int kvHeads;
    private final int headDim;
    private final int blockShift;

    KvLayerF32(int numBlocks, int blockShift, int kvHeads, int headDim) {
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.blockShift = blockShift;
        int floats = Math.multiplyExact(numBlocks << blockShift, kvHeads * headDim);
        keys = new float[floats];
        values = new float[floats];
    }

    static long bytesPerSlot(int kvHeads, int headDim) {
        return 2L * kvHeads * headDim * Float.BYTES;
    }

    @Override
    public int kvHeads() {
        return kvHeads;
    }

    @Override
    public int headDim() {
        return headDim;
    }

    @Override
    public int blockShift() {
        return blockShift;
    }

    @Override
    public void write(int slot, float[] k, int kOff, float[] v, int vOff) {
        int width = kvHeads * headDim;
        System.arraycopy(v, vOff, values, slot * width, width);
        for (int h = 0; h < kvHeads; h++) {
            int dst = Attention.pagedKeyIndex(slot, h, 0, kvHeads, headDim, blockShift);
            int src = kOff + h * headDim;
            for (int d = 0; d < headDim; d++) {
                keys[dst + (d << blockShift)] = k[src + d];
            }
        }
    }

    @Override
    public float key(int slot, int kvHead, int d) {
        return keys[Attention.pagedKeyIndex(slot, kvHead, d, kvHeads, headDim, blockShift)];
    }

    @Override
    public float value(int slot, int kvHead, int d) {
        return values[slot * kvHeads * headDim + kvHead * headDim + d];
    }

    @Override
    public void attend(float[] q, int qOff, int[] table, int len, int heads, float[] out, int outOff, float[] scores) {
        Attention.decodePaged(q, qOff, keys, values, table, blockShift, len, heads, kvHeads, headDim, out, outOff,
                scores);
    }

    @Override
    public long bytesPerSlot() {
        return bytesPerSlot(kvHeads, headDim);
    }

    @Override
    public void prefetch(int[] table, int len) {
        if (KvPrefetch.fits(len, kvHeads * headDim)) {
            KvPrefetch.touch(keys, values, table, blockShift, len, kvHeads * headDim);
        }
    }

    @Override
    public long bytes() {
        return 2L * keys.length * Float.BYTES;
    }
}
