package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DTypeCodec;

/**
 * BF16 K/V (round to nearest even, as {@link DTypeCodec#floatToBf16}), two values to an int so that one int vector
 * load widens into two float vectors with a shift and a mask (as {@link MatMulBF16} reads its weights):
 * <ul>
 *   <li>keys, transposed per block like FP32's, with dims paired: [block][kvHead][d/2][position in block], dim d even
 *       in the low half, d + 1 in the high half (an odd head dim leaves the last high half zero);</li>
 *   <li>values with positions paired, per block and kv head: [block][kvHead][position in block / 2][dim], the even
 *       slot in the low half; slots 2i and 2i + 1 are consecutive positions of one block (blocks hold at least 2).</li>
 * </ul>
 * A kv head's values of one block are one contiguous run (2 KB at head dim 64 and 16-token blocks), which attention
 * streams; rows of all heads, read 256 bytes at a time at a stride of all heads' width, ran latency-bound.
 * Read by {@link AttentionBF16}.
 */
final class KvLayerBF16 implements KvLayer {
    final int[] keys;
    final int[] values;
    private final int kvHeads;
    private final int headDim;
    private final int pairs;          // packed key rows per head: ceil(headDim / 2)
    private final int blockShift;

    KvLayerBF16(int numBlocks, int blockShift, int kvHeads, int headDim) {
        if (blockShift < 1) {
            throw new IllegalArgumentException("a BF16 KV cache pairs positions: blocks need at least 2 tokens, got "
                    + (1 << blockShift));
        }
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.pairs = (headDim + 1) / 2;
        this.blockShift = blockShift;
        int slots = numBlocks << blockShift;
        keys = new int[Math.multiplyExact(slots, kvHeads * pairs)];
        values = new int[Math.multiplyExact(slots / 2, kvHeads * headDim)];
    }

    static long bytesPerSlot(int kvHeads, int headDim) {
        return (long) kvHeads * ((headDim + 1) / 2) * Integer.BYTES + (long) kvHeads * headDim * Short.BYTES;
    }

    /** Index of the int holding key dims (2j, 2j + 1) of (slot, kvHead). */
    int keyIndex(int slot, int kvHead, int j) {
        return Attention.pagedKeyIndex(slot, kvHead, j, kvHeads, pairs, blockShift);
    }

    /** Index of the int holding value element c of kvHead for slots (slot & ~1, slot | 1). */
    int valueIndex(int slot, int kvHead, int c) {
        int block = slot >> blockShift;
        int pair = (slot & ((1 << blockShift) - 1)) >> 1;
        return ((((block * kvHeads + kvHead) << (blockShift - 1)) + pair) * headDim) + c;
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

    int pairs() {
        return pairs;
    }

    @Override
    public void write(int slot, float[] k, int kOff, float[] v, int vOff) {
        for (int h = 0; h < kvHeads; h++) {
            int src = kOff + h * headDim;
            for (int d = 0; d < headDim; d++) {
                int i = keyIndex(slot, h, d >> 1);
                keys[i] = withHalf(keys[i], d & 1, DTypeCodec.floatToBf16(k[src + d]));
            }
            int vSrc = vOff + h * headDim;
            for (int c = 0; c < headDim; c++) {
                int i = valueIndex(slot, h, c);
                values[i] = withHalf(values[i], slot & 1, DTypeCodec.floatToBf16(v[vSrc + c]));
            }
        }
    }

    private static int withHalf(int word, int half, short bits) {
        return half == 0 ? (word & 0xFFFF0000) | (bits & 0xFFFF) : (word & 0xFFFF) | (bits << 16);
    }

    private static float half(int word, int half) {
        return Float.intBitsToFloat(half == 0 ? word << 16 : word & 0xFFFF0000);
    }

    @Override
    public float key(int slot, int kvHead, int d) {
        return half(keys[keyIndex(slot, kvHead, d >> 1)], d & 1);
    }

    @Override
    public float value(int slot, int kvHead, int d) {
        return half(values[valueIndex(slot, kvHead, d)], slot & 1);
    }

    @Override
    public void attend(float[] q, int qOff, int[] table, int len, int heads, float[] out, int outOff, float[] scores) {
        if (AttentionBF16.vectorizes(blockShift)) {
            AttentionBF16.decodePaged(q, qOff, this, table, len, heads, out, outOff, scores);
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
            KvPrefetch.touch(keys, (kvHeads * pairs) << blockShift, values, (kvHeads * headDim) << (blockShift - 1),
                    table, blockShift, len);
        }
    }

    @Override
    public long bytes() {
        return ((long) keys.length + values.length) * Integer.BYTES;
    }
}
