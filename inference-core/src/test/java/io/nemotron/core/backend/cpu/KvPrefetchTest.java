package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The touch reads the first float of every cache line of exactly the row's blocks: pools where those floats are 1
 * (keys) and 2 (values) and every other float is 10^6 make any other read, or a missed line, change the sum.
 */
class KvPrefetchTest {

    @ParameterizedTest(name = "kvStride={0} blockSize={1} len={2}")
    @CsvSource({
            "128, 16, 40",   // 2 kv heads x 64: 128-line regions, three of the table's blocks
            "512, 16, 80",   // the demo's 8 kv heads: five blocks
            "80, 1, 3",      // a 5-line region: four lines in the unrolled loop, one in the tail
            "48, 4, 4",      // exactly one block
    })
    void touchesEveryLineOfTheRowsBlocksAndNothingElse(int kvStride, int blockSize, int len) {
        int shift = Integer.numberOfTrailingZeros(blockSize);
        int region = kvStride * blockSize;
        int[] table = {5, 2, 7, 0, 6, 1};                     // pool of 8 blocks; blocks past len are not the row's
        int blocks = (len + blockSize - 1) / blockSize;
        float[] keys = new float[8 * region];
        float[] values = new float[8 * region];
        Arrays.fill(keys, 1e6f);
        Arrays.fill(values, 1e6f);
        for (int b = 0; b < blocks; b++) {
            for (int i = table[b] * region; i < (table[b] + 1) * region; i += 16) {
                keys[i] = 1f;
                values[i] = 2f;
            }
        }
        int linesPerRegion = (region + 15) / 16;

        float sum = KvPrefetch.touch(keys, values, table, shift, len, kvStride);

        assertEquals(3f * blocks * linesPerRegion, sum);
    }

    /** The packed pools of BF16 and FP8 caches: key and value regions of their own sizes per block. */
    @ParameterizedTest(name = "keyRegion={0} valueRegion={1} blockSize={2} len={3}")
    @CsvSource({
            "512, 512, 16, 40",   // BF16, 8 kv heads x 64: 32 pairs x 16 positions a head
            "256, 256, 16, 80",   // FP8, the same heads: a quarter of FP32's ints
            "88, 80, 4, 5",       // odd head dim in BF16: keys pad the last pair; a tail line in each region
    })
    void packedPoolsTouchEveryLineOfTheRowsBlocksAndNothingElse(int keyRegion, int valueRegion, int blockSize,
                                                                int len) {
        int shift = Integer.numberOfTrailingZeros(blockSize);
        int[] table = {5, 2, 7, 0, 6, 1};
        int blocks = (len + blockSize - 1) / blockSize;
        int[] keys = new int[8 * keyRegion];
        int[] values = new int[8 * valueRegion];
        Arrays.fill(keys, 1_000_000);
        Arrays.fill(values, 1_000_000);
        for (int b = 0; b < blocks; b++) {
            for (int i = table[b] * keyRegion; i < (table[b] + 1) * keyRegion; i += 16) {
                keys[i] = 1;
            }
            for (int i = table[b] * valueRegion; i < (table[b] + 1) * valueRegion; i += 16) {
                values[i] = 2;
            }
        }
        int sum = KvPrefetch.touch(keys, keyRegion, values, valueRegion, table, shift, len);
        assertEquals(blocks * ((keyRegion + 15) / 16 + 2 * ((valueRegion + 15) / 16)), sum);
    }

    @Test
    void rowsFitWhileTheirKeysAndValuesTakeHalfAMegabyteOrLess() {
        // 8 kv heads x 64 dims = 512 floats per position: K + V take 4 KB per position, 128 positions = 512 KB
        assertTrue(KvPrefetch.fits(128, 512));
        assertFalse(KvPrefetch.fits(129, 512));
        assertTrue(KvPrefetch.fits(512, 128));
        assertFalse(KvPrefetch.fits(1_000_000, 512));   // no int overflow on long contexts
    }
}
