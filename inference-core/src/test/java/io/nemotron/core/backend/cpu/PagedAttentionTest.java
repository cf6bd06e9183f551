package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Reading K/V through a block table gives bit-for-bit the contiguous result (the oracle is the contiguous path). */
class PagedAttentionTest {

    @Test
    void shuffledBlocksGiveTheContiguousResultExactly() {
        int heads = 8, kvHeads = 2, headDim = 16, width = kvHeads * headDim, blockSize = 4, len = 37;
        SplittableRandom rnd = new SplittableRandom(3);
        float[] q = new float[heads * headDim];
        float[] keys = new float[len * width];
        float[] values = new float[len * width];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < keys.length; i++) { keys[i] = (float) rnd.nextGaussian(); values[i] = (float) rnd.nextGaussian(); }

        // 10 blocks for 37 positions, placed at scattered ids of a 16-block pool
        int[] table = {11, 3, 7, 0, 15, 9, 2, 13, 5, 8};
        float[] keyPool = new float[16 * blockSize * width];
        float[] valuePool = new float[16 * blockSize * width];
        for (int p = 0; p < len; p++) {
            int slot = table[p / blockSize] * blockSize + p % blockSize;
            System.arraycopy(keys, p * width, keyPool, slot * width, width);
            System.arraycopy(values, p * width, valuePool, slot * width, width);
        }
        for (int l = 1; l <= len; l += 6) {
            float[] expected = new float[heads * headDim];
            float[] got = new float[heads * headDim];
            Attention.decode(q, 0, keys, values, l, heads, kvHeads, headDim, expected, 0, new float[len]);
            Attention.decodePaged(q, 0, keyPool, valuePool, table, 2, l, heads, kvHeads, headDim, got, 0, new float[len]);
            assertArrayEquals(expected, got, "len " + l);
        }
    }
}
