package io.nemotron.core.kv;

import java.util.Arrays;

/**
 * The identity of a full block of tokens in the prefix cache: a chained 64-bit hash of (parent block's hash, this
 * block's token ids) plus the token ids themselves.
 *
 * <p>Chaining makes a block's identity depend on the whole prefix before it, so equal block contents after different
 * prefixes never match (their K/V differ, because attention saw different context). Equality also compares the token
 * ids, as vLLM's {@code BlockHash(hash_value, token_ids)} does: a false hit would need a 64-bit collision of chained
 * values AND equal tokens in the block.
 *
 * @param value    chained hash, also the parent value for the next block
 * @param tokenIds exactly blockSize token ids (owned: never mutated after construction)
 */
public record BlockHash(long value, int[] tokenIds) {
    /** Parent value of the first block of every sequence. */
    static final long ROOT = 0x6a09e667f3bcc908L;

    /** Hash of {@code tokens[from, from + blockSize)} after the block whose hash value is {@code parent}. */
    public static BlockHash of(long parent, int[] tokens, int from, int blockSize) {
        int[] ids = Arrays.copyOfRange(tokens, from, from + blockSize);
        long h = parent ^ (blockSize * 0x9E3779B97F4A7C15L);
        for (int id : ids) {
            h = Long.rotateLeft(h ^ (id * 0xC2B2AE3D27D4EB4FL), 31) * 0x9E3779B97F4A7C15L;
        }
        return new BlockHash(fmix64(h), ids);
    }

    /** MurmurHash3's finalizer: spreads every input bit over the result so HashMap buckets stay balanced. */
    private static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockHash b && b.value == value && Arrays.equals(b.tokenIds, tokenIds);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(value);
    }

    @Override
    public String toString() {
        return "BlockHash[" + Long.toHexString(value) + ", " + Arrays.toString(tokenIds) + "]";
    }
}
