package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.Fp8E4m3;

/**
 * FP8 E4M3 K/V with the layer's K and V scales: a cached element is {@code Fp8E4m3.encode(x / scale)} and reads back
 * as {@code Fp8E4m3.decode(code) · scale} (one float rounding). Four codes to an int, byte b holding element b:
 * <ul>
 *   <li>keys, transposed per block, dims in fours: [block][kvHead][d/4][position in block], dim 4j + b in byte b;</li>
 *   <li>values, positions in fours, per block and kv head: [block][kvHead][position in block / 4][dim], slot 4i + b
 *       in byte b (slots 4i .. 4i + 3 are consecutive positions of one block; blocks hold at least 4).</li>
 * </ul>
 * Read by {@link AttentionFP8}.
 */
final class KvLayerFP8 implements KvLayer {
    final int[] keys;
    final int[] values;
    final float kScale;
    final float vScale;
    private final int kvHeads;
    private final int headDim;
    private final int quads;          // packed key rows per head: ceil(headDim / 4)
    private final int blockShift;

    KvLayerFP8(int numBlocks, int blockShift, int kvHeads, int headDim, float kScale, float vScale) {
        if (blockShift < 2) {
            throw new IllegalArgumentException("an FP8 KV cache packs four positions: blocks need at least 4 tokens, "
                    + "got " + (1 << blockShift));
        }
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.quads = (headDim + 3) / 4;
        this.blockShift = blockShift;
        this.kScale = kScale;
        this.vScale = vScale;
        int slots = numBlocks << blockShift;
        keys = new int[Math.multiplyExact(slots, kvHeads * quads)];
        values = new int[Math.multiplyExact(slots / 4, kvHeads * headDim)];
    }

    static long bytesPerSlot(int kvHeads, int headDim) {
        return (long) kvHeads * ((headDim + 3) / 4) * Integer.BYTES + (long) kvHeads * headDim;
    }

    /** Index of the int holding key dims 4j .. 4j + 3 of (slot, kvHead). */
    int keyIndex(int slot, int kvHead, int j) {
        return Attention.pagedKeyIndex(slot, kvHead, j, kvHeads, quads, blockShift);
    }

    /** Index of the int holding value element c of kvHead for slots (slot & ~3) .. (slot | 3). */
    int valueIndex(int slot, int kvHead, int c) {
        int block = slot >> blockShift;
        int quad = (slot & ((1 << blockShift) - 1)) >> 2;
        return ((((block * kvHeads + kvHead) << (blockShift - 2)) + quad) * headDim) + c;
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

    int quads() {
        return quads;
    }

    @Override
    public void write(int slot, float[] k, int kOff, float[] v, int vOff) {
        for (int h = 0; h < kvHeads; h++) {
            int src = kOff + h * headDim;
            for (int d = 0; d < headDim; d++) {
                int i = keyIndex(slot, h, d >> 2);
                keys[i] = withByte(keys[i], d & 3, Fp8E4m3.encode(k[src + d] / kScale));
            }
            int vSrc = vOff + h * headDim;
            for (int c = 0; c < headDim; c++) {
                int i = valueIndex(slot, h, c);
                values[i] = withByte(values[i], slot & 3, Fp8E4m3.encode(v[vSrc + c] / vScale));
            }
        }
    }

    private static int withByte(int word, int b, byte code) {
        int shift = 8 * b;
        return (word & ~(0xFF << shift)) | ((code & 0xFF) << shift);
    }

    private static byte byteOf(int word, int b) {
        return (byte) (word >>> (8 * b));
    }

    @Override
    public float key(int slot, int kvHead, int d) {
        return Fp8E4m3.decode(byteOf(keys[keyIndex(slot, kvHead, d >> 2)], d & 3)) * kScale;
    }

    @Override
    public float value(int slot, int kvHead, int d) {
        return Fp8E4m3.decode(byteOf(values[valueIndex(slot, kvHead, d)], slot & 3)) * vScale;
    }

    @Override
    public void attend(float[] q, int qOff, int[] table, int len, int heads, float[] out, int outOff, float[] scores) {
        if (AttentionFP8.vectorizes(blockShift, kScale, vScale)) {
            AttentionFP8.decodePaged(q, qOff, this, table, len, heads, out, outOff, scores);
        } else {
            AttentionScalar.decodePaged(q, qOff, this, table, len, heads, out, outOff, scores);
        }
    }

    @Override
    public long bytesPerSlot() {
        return bytesPerSlot(kvHeads, headDim);
    }

    @Override
    public void prefetch(int[] table, int len) {
        if (KvPrefetch.fitsBytes(len, bytesPerSlot())) {
            KvPrefetch.touch(keys, (kvHeads * quads) << blockShift, values, (kvHeads * headDim) << (blockShift - 2),
                    table, blockShift, len);
        }
    }

    @Override
    public long bytes() {
        return ((long) keys.length + values.length) * Integer.BYTES;
    }
}
