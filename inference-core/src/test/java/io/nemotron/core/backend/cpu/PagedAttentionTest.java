package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Reading K/V through a block table (keys in the transposed block layout, scored a vector of positions at a time
 * where a block allows) gives bit-for-bit the contiguous result, which scores one position at a time in scalar
 * code: the oracle is the contiguous path, and the two share no scoring code.
 */
class PagedAttentionTest {

    @ParameterizedTest(name = "blockSize={0} headDim={1} len={2} heads={3}")
    @CsvSource({
            "4, 16, 37, 8",     // blocks shorter than a vector: scalar scores only
            "16, 64, 77, 8",    // whole vectors of positions plus a partial last block (heads in pairs)
            "32, 33, 70, 8",    // odd head dim: remainder chains; two vectors per block (or four at 256 bits)
            "16, 128, 16, 8",   // one full block; the 4-vector value loop twice per head
            "16, 64, 45, 6",    // three query heads per kv head: a pair, then one head alone
            "16, 64, 80, 2",    // one query head per kv head: one-vector blocks scored two at a time (AVX-512)
    })
    void shuffledBlocksGiveTheContiguousResultExactly(int blockSize, int headDim, int len, int heads) {
        int kvHeads = 2, width = kvHeads * headDim;
        int shift = Integer.numberOfTrailingZeros(blockSize);
        SplittableRandom rnd = new SplittableRandom(3);
        float[] q = new float[heads * headDim];
        float[] keys = new float[len * width];
        float[] values = new float[len * width];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < keys.length; i++) { keys[i] = (float) rnd.nextGaussian(); values[i] = (float) rnd.nextGaussian(); }

        int blocks = (len + blockSize - 1) / blockSize;
        int poolBlocks = 2 * blocks + 3;
        int[] table = new int[blocks];
        for (int b = 0; b < blocks; b++) {
            table[b] = (7 * b + 5) % poolBlocks;   // scattered, distinct ids (poolBlocks is odd)
        }
        float[] keyPool = new float[poolBlocks * blockSize * width];
        float[] valuePool = new float[poolBlocks * blockSize * width];
        for (int p = 0; p < len; p++) {
            int slot = table[p / blockSize] * blockSize + p % blockSize;
            System.arraycopy(values, p * width, valuePool, slot * width, width);
            for (int h = 0; h < kvHeads; h++) {
                for (int d = 0; d < headDim; d++) {
                    // [block][kvHead][dim][position in block], written out independently of pagedKeyIndex
                    int idx = ((table[p / blockSize] * kvHeads + h) * headDim + d) * blockSize + p % blockSize;
                    keyPool[idx] = keys[p * width + h * headDim + d];
                }
            }
        }
        for (int l = 1; l <= len; l += 5) {
            float[] expected = new float[heads * headDim];
            float[] got = new float[heads * headDim];
            Attention.decode(q, 0, keys, values, l, heads, kvHeads, headDim, expected, 0, new float[len]);
            // where the kernel takes the heads of a kv head in pairs, its scratch holds two heads' scores
            boolean pairs = Attention.pairsHeads(heads, kvHeads, headDim, shift);
            Attention.decodePaged(q, 0, keyPool, valuePool, table, shift, l, heads, kvHeads, headDim, got, 0,
                    new float[pairs ? 2 * len : len]);
            assertArrayEquals(expected, got, "len " + l + (pairs ? ", heads in pairs" : ""));
        }
    }
}
