package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Fp8E4m3;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Paged attention over FP32, BF16 and FP8 caches ({@link KvLayer}). Oracles: the values a cache must hold, quantized
 * here from the written floats by the formats' definitions (BF16 round to nearest even; FP8 {@code saturate_e4m3(x /
 * scale)}, read back as code · scale) plus hand-checked values; a float64 attention over those dequantized values,
 * written here independently of the kernels; and, bit for bit, the scalar twin {@link AttentionScalar} on the same
 * cache (the bit-identity rule in {@link KvLayer}'s NOTE).
 */
class KvCacheDtypeAttentionTest {
    private static final double U = 0x1p-24;   // unit roundoff of float32
    private static final float K_SCALE = 0.011f, V_SCALE = 0.0093f;   // ~ amax/448 of the gaussian data below

    private static KvLayer layer(KvCacheDtype dtype, int numBlocks, int shift, int kvHeads, int headDim) {
        return switch (dtype) {
            case FP32 -> new KvLayerF32(numBlocks, shift, kvHeads, headDim);
            case BF16 -> new KvLayerBF16(numBlocks, shift, kvHeads, headDim);
            case FP8 -> new KvLayerFP8(numBlocks, shift, kvHeads, headDim, K_SCALE, V_SCALE);
        };
    }

    /** The value a cache of {@code dtype} must hand back for a written x, from the format's definition. */
    private static float stored(KvCacheDtype dtype, float x, float scale) {
        return switch (dtype) {
            case FP32 -> x;
            case BF16 -> DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(x));
            case FP8 -> Fp8E4m3.decode(Fp8E4m3.encode(x / scale)) * scale;
        };
    }

    /** A filled layer: len positions of random K/V over a scattered block table, plus what each slot must hold. */
    private record Filled(KvLayer kv, int[] table, float[][] k, float[][] v) {}

    private static Filled fill(KvCacheDtype dtype, int blockSize, int kvHeads, int headDim, int len, long seed) {
        int shift = Integer.numberOfTrailingZeros(blockSize);
        int blocks = (len + blockSize - 1) / blockSize;
        int poolBlocks = 2 * blocks + 3;
        int[] table = new int[blocks];
        for (int b = 0; b < blocks; b++) {
            table[b] = (7 * b + 5) % poolBlocks;   // scattered, distinct ids (poolBlocks is odd)
        }
        KvLayer kv = layer(dtype, poolBlocks, shift, kvHeads, headDim);
        SplittableRandom rnd = new SplittableRandom(seed);
        int width = kvHeads * headDim;
        // stale neighbours first: every slot of the pool holds something, so a kernel reading past len or another
        // position's half of a packed word would show
        float[] junk = new float[width];
        for (int slot = 0; slot < poolBlocks * blockSize; slot++) {
            for (int i = 0; i < width; i++) junk[i] = (float) (3 * rnd.nextGaussian());
            kv.write(slot, junk, 0, junk, 0);
        }
        float[][] k = new float[len][width];
        float[][] v = new float[len][width];
        for (int p = 0; p < len; p++) {
            for (int i = 0; i < width; i++) {
                k[p][i] = (float) (1.3 * rnd.nextGaussian());
                v[p][i] = (float) rnd.nextGaussian();
            }
            kv.write(table[p >> shift] * blockSize + (p & (blockSize - 1)), k[p], 0, v[p], 0);
        }
        return new Filled(kv, table, k, v);
    }

    @ParameterizedTest(name = "{0} blockSize={1} headDim={2} heads={3}/{4}")
    @CsvSource({
            "BF16, 16, 64, 8, 2",    // head pairs, two-vector value chunks
            "BF16, 16, 64, 8, 8",    // one query head per kv head
            "BF16, 16, 64, 6, 2",    // three heads per kv head: a pair, then one alone
            "BF16, 32, 38, 4, 1",    // head dim with a 2-dim tail and a scalar value tail
            "BF16, 16, 8, 8, 4",     // stories260K's head dim: values only in the scalar tail at 512 bits
            "BF16, 2, 16, 4, 2",     // blocks narrower than a vector: the scalar twin serves
            "BF16, 16, 33, 2, 1",    // odd head dim: the last packed key pair is half empty
            "FP8, 16, 64, 8, 2",
            "FP8, 16, 64, 8, 8",
            "FP8, 16, 64, 6, 2",
            "FP8, 32, 38, 4, 1",
            "FP8, 16, 8, 8, 4",
            "FP8, 4, 16, 4, 2",
            "FP8, 16, 35, 2, 1",     // head dim 35: a key quad of 3 dims
            "FP32, 16, 64, 8, 2",
            "FP32, 4, 16, 4, 2",
    })
    void vectorKernelEqualsScalarTwinBitForBitAndFloat64WithinBound(KvCacheDtype dtype, int blockSize, int headDim,
                                                                      int heads, int kvHeads) {
        int maxLen = 77;
        Filled f = fill(dtype, blockSize, kvHeads, headDim, maxLen, blockSize * 131L + headDim * 7L + heads);
        int shift = Integer.numberOfTrailingZeros(blockSize);
        // the cache holds the formats' values (and nothing of its neighbours)
        for (int p = 0; p < maxLen; p++) {
            int slot = f.table[p >> shift] * blockSize + (p & (blockSize - 1));
            for (int h = 0; h < kvHeads; h++) {
                for (int d = 0; d < headDim; d++) {
                    int i = h * headDim + d;
                    assertEquals(stored(dtype, f.k[p][i], K_SCALE), f.kv.key(slot, h, d), "key " + p + "," + i);
                    assertEquals(stored(dtype, f.v[p][i], V_SCALE), f.kv.value(slot, h, d), "value " + p + "," + i);
                }
            }
        }
        SplittableRandom rnd = new SplittableRandom(11);
        float[] q = new float[heads * headDim];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
        for (int len : new int[] {1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 33, 50, 64, 77}) {
            float[] got = new float[heads * headDim];
            float[] twin = new float[heads * headDim];
            f.kv.attend(q, 0, f.table, len, heads, got, 0, new float[2 * len]);
            AttentionScalar.decodePaged(q, 0, f.kv, f.table, len, heads, twin, 0, new float[2 * len]);
            for (int i = 0; i < got.length; i++) {
                int at = i;
                int l = len;
                assertEquals(Float.floatToRawIntBits(twin[i]), Float.floatToRawIntBits(got[i]),
                        () -> dtype + " len " + l + " element " + at + ": " + got[at] + " vs twin " + twin[at]);
            }
            assertWithinFloat64Bound(dtype, f, q, len, heads, kvHeads, headDim, got);
        }
    }

    /**
     * Float64 attention over the dequantized values against the kernel. The bound, per output element, is the
     * first-order float32 error of the kernel's operations, doubled for second-order terms: a score's FMA chains,
     * final adds and scale err by at most (headDim + 3)·u·scale·Σ|q·k|; softmax adds u for the subtraction, 2 ulp for
     * exp, (len + 2)·u for the sum and its inverse, so a weight errs relatively by E = 2·maxΔscore + (len + 8)·u (the
     * max cancels); the weighted sum adds (len/2 + 2)·u relative to Σ w|v|.
     */
    private static void assertWithinFloat64Bound(KvCacheDtype dtype, Filled f, float[] q, int len, int heads,
                                                 int kvHeads, int headDim, float[] got) {
        int group = heads / kvHeads;
        double scale = 1.0 / Math.sqrt(headDim);
        for (int h = 0; h < heads; h++) {
            int kvh = h / group;
            double[] s = new double[len];
            double maxScoreError = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int p = 0; p < len; p++) {
                double dot = 0, abs = 0;
                for (int d = 0; d < headDim; d++) {
                    double k = stored(dtype, f.k[p][kvh * headDim + d], K_SCALE);
                    dot += q[h * headDim + d] * k;
                    abs += Math.abs(q[h * headDim + d] * k);
                }
                s[p] = dot * scale;
                maxScoreError = Math.max(maxScoreError, (headDim + 3) * U * scale * abs + U * Math.abs(s[p]));
                max = Math.max(max, s[p]);
            }
            double sum = 0;
            for (int p = 0; p < len; p++) {
                s[p] = Math.exp(s[p] - max);
                sum += s[p];
            }
            double weightError = 2 * maxScoreError + (len + 8) * U;
            for (int c = 0; c < headDim; c++) {
                double out = 0, abs = 0;
                for (int p = 0; p < len; p++) {
                    double v = stored(dtype, f.v[p][kvh * headDim + c], V_SCALE);
                    out += s[p] / sum * v;
                    abs += s[p] / sum * Math.abs(v);
                }
                double bound = 2 * abs * (weightError + (len / 2 + 2) * U);
                double err = Math.abs(got[h * headDim + c] - out);
                double expected = out;
                int hh = h, cc = c;
                assertTrue(err <= bound, () -> dtype + " len " + len + " head " + hh + " dim " + cc + ": |" + got[hh * headDim + cc]
                        + " - " + expected + "| = " + err + " > bound " + bound);
            }
        }
    }

    @Test
    void bf16RoundsToNearestEvenAndFp8SaturatesAtTheScaledMaximum() {
        KvLayer bf16 = layer(KvCacheDtype.BF16, 1, 4, 1, 4);
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even mantissa (1); 1 + 3·2^-8 ties up to 1 + 2^-6
        float[] k = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, -2.5f, 1f + 0x1.8p-8f};
        float[] v = {0x1p-130f, 65504f, -0f, 3f};
        bf16.write(5, k, 0, v, 0);
        assertEquals(1f, bf16.key(5, 0, 0));
        assertEquals(1f + 0x1p-6f, bf16.key(5, 0, 1));
        assertEquals(-2.5f, bf16.key(5, 0, 2));
        assertEquals(1f + 0x1p-7f, bf16.key(5, 0, 3));   // above the tie: rounds up
        assertEquals(0x1p-130f, bf16.value(5, 0, 0));     // a subnormal with 7 significant bits is exact
        assertEquals(65536f, bf16.value(5, 0, 1));        // 65504 = 1.9990234375 · 2^15 rounds up to 2^16
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(bf16.value(5, 0, 2)));
        KvLayer fp8 = new KvLayerFP8(1, 4, 1, 4, 0.5f, 2f);
        // key scale 0.5: 1 -> code of 2 -> 1; 300 -> 600 saturates at 448 -> 224; 0.3 -> 0.6 -> 0.625 (1.25 · 2^-1) -> 0.3125
        fp8.write(9, new float[] {1f, 300f, 0.3f, -1000f}, 0, new float[] {1f, 1000f, -0.001f, 7f}, 0);
        assertEquals(1f, fp8.key(9, 0, 0));
        assertEquals(224f, fp8.key(9, 0, 1));
        assertEquals(0.3125f, fp8.key(9, 0, 2));
        assertEquals(-224f, fp8.key(9, 0, 3));
        // value scale 2: 1 -> 0.5 -> 1; 1000 -> 500 -> 448 -> 896; -0.001 -> -0.0005: subnormal quantum 2^-9 rounds to -0
        assertEquals(1f, fp8.value(9, 0, 0));
        assertEquals(896f, fp8.value(9, 0, 1));
        assertEquals(-0f, fp8.value(9, 0, 2));
        assertEquals(7f, fp8.value(9, 0, 3));              // 3.5 is exact in E4M3
    }

    @Test
    void fp8ScalesTooLargeToFoldRunTheScalarTwin() {
        // 2^8 · 2^120 overflows a float: the vector kernel cannot fold 2^120 into the scale, and the twin serves
        assertTrue(AttentionFP8.vectorizes(4, 255f, 1f));
        assertTrue(!AttentionFP8.vectorizes(4, 256f, 1f) && !AttentionFP8.vectorizes(4, 1f, 300f));
        KvLayerFP8 kv = new KvLayerFP8(2, 4, 1, 16, 256f, 512f);
        SplittableRandom rnd = new SplittableRandom(5);
        float[] k = new float[16], v = new float[16], q = new float[32];
        for (int slot = 0; slot < 32; slot++) {
            for (int i = 0; i < 16; i++) {
                k[i] = (float) (2e4 * rnd.nextGaussian());
                v[i] = (float) (5e4 * rnd.nextGaussian());
            }
            kv.write(slot, k, 0, v, 0);
        }
        for (int i = 0; i < q.length; i++) q[i] = (float) (1e-4 * rnd.nextGaussian());
        int[] table = {1, 0};
        float[] got = new float[32], twin = new float[32];
        kv.attend(q, 0, table, 29, 2, got, 0, new float[58]);
        AttentionScalar.decodePaged(q, 0, kv, table, 29, 2, twin, 0, new float[58]);
        for (int i = 0; i < got.length; i++) {
            assertEquals(Float.floatToRawIntBits(twin[i]), Float.floatToRawIntBits(got[i]), "element " + i);
        }
        assertTrue(Float.isFinite(got[0]) && got[0] != 0f);
    }

    @Test
    void packedLayoutsRefuseBlocksTooNarrowToPack() {
        assertThrows(IllegalArgumentException.class, () -> new KvLayerBF16(4, 0, 2, 16));
        assertThrows(IllegalArgumentException.class, () -> new KvLayerFP8(4, 1, 2, 16, 1f, 1f));
    }

    @Test
    void bytesPerSlotHalveFromFp32ToBf16AndAgainToFp8() {
        // 2 (K and V) x 3 kv heads x 64 dims x 4, 2, 1 bytes
        assertEquals(1536, KvLayerF32.bytesPerSlot(3, 64));
        assertEquals(768, KvLayerBF16.bytesPerSlot(3, 64));
        assertEquals(384, KvLayerFP8.bytesPerSlot(3, 64));
        for (KvCacheDtype dtype : KvCacheDtype.values()) {
            KvLayer kv = layer(dtype, 5, 4, 3, 64);
            assertEquals(5 * 16 * kv.bytesPerSlot(), kv.bytes(), dtype.label());
        }
    }
}
