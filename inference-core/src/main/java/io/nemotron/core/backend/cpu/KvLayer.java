package io.nemotron.core.backend.cpu;

/**
 * The paged K/V of one FULL-attention layer in one element type: {@code numBlocks} blocks of {@code 1 << blockShift}
 * slots, {@code kvHeads} heads of {@code headDim} each. Writes quantize (FP32 keeps the value, BF16 rounds to nearest
 * even, FP8 stores {@code saturate_e4m3(x / scale)}); {@link #key} and {@link #value} read a cached element back as the
 * float that attention uses (the dequantized value: BF16 widened, FP8 code · scale).
 *
 * <p>NOTE (bit identity): {@link #attend} gives exactly the bits of {@link AttentionScalar#decodePaged} run on the
 * dequantized values, for every dtype: the Vector API kernels run the same FMA chains per lane as the scalar twin. So a
 * BF16 or FP8 cache changes a token's output only through the rounding of the cached values, never through the kernel,
 * and a row's output stays independent of the batch around it. (FP8 NaN codes, written only for NaN K/V, are the one
 * exception: the vector decoding reads them as ±480 · scale.)
 */
sealed interface KvLayer permits KvLayerF32, KvLayerBF16, KvLayerFP8 {

    int kvHeads();

    int headDim();

    int blockShift();

    /** Stores the K and V rows of one token (k[kOff..], v[vOff..], kvHeads·headDim each) into {@code slot}. */
    void write(int slot, float[] k, int kOff, float[] v, int vOff);

    /** The cached key element (slot, kvHead, d) as attention reads it. */
    float key(int slot, int kvHead, int d);

    /** The cached value element (slot, kvHead, d) as attention reads it. */
    float value(int slot, int kvHead, int d);

    /**
     * Attention of one query token over positions [0, len) of its block table: q [heads·headDim] at qOff, out
     * [heads·headDim] at outOff, scores scratch of at least 2·len floats (see {@link Attention#decodePaged}).
     */
    void attend(float[] q, int qOff, int[] table, int len, int heads, float[] out, int outOff, float[] scores);

    /** Bytes one cached position takes in this layer (K and V). */
    long bytesPerSlot();

    /** Touches the blocks holding positions [0, len) when they fit in cache ({@link KvPrefetch}). */
    void prefetch(int[] table, int len);

    /** Bytes this layer holds. */
    long bytes();
}
