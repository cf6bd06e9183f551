package io.nemotron.core.kv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-sequence block tables over a {@link BlockPool}, with automatic prefix caching (vLLM v1's {@code KVCacheManager}).
 * Only sequence ids and token ids live here: the physical K/V storage belongs to the backend, which reads the tables.
 *
 * <p>Block i of a sequence's table holds the K/V of its tokens [i*blockSize, (i+1)*blockSize). Only full, computed
 * blocks are ever hashed and shared; the partial last block is private to its sequence, because it is still written.
 * Not thread-safe: owned by the engine thread.
 */
public final class KvCacheManager {
    private final BlockPool pool;
    private final int blockSize;
    private final boolean enablePrefixCaching;
    private final Map<String, SeqBlocks> seqs = new HashMap<>();
    private long prefixQueries;
    private long prefixHits;

    /** One sequence's table, and the chained hashes of its leading blocks that are full and computed. */
    private static final class SeqBlocks {
        int[] table = new int[4];
        int size;
        final List<BlockHash> hashes = new ArrayList<>();

        void add(int blockId) {
            if (size == table.length) {
                table = Arrays.copyOf(table, size * 2);
            }
            table[size++] = blockId;
        }

        long lastHash() {
            return hashes.isEmpty() ? BlockHash.ROOT : hashes.getLast().value();
        }
    }

    public KvCacheManager(int numBlocks, int blockSize, boolean enablePrefixCaching) {
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
        this.pool = new BlockPool(numBlocks);
        this.blockSize = blockSize;
        this.enablePrefixCaching = enablePrefixCaching;
    }

    public int blockSize() {
        return blockSize;
    }

    public int numBlocks() {
        return pool.numBlocks();
    }

    /** Blocks with ref count 0; cached-but-unreferenced blocks count as free, since they can be evicted. */
    public int freeBlocks() {
        return pool.numFreeBlocks();
    }

    public double usage() {
        return 1.0 - (double) pool.numFreeBlocks() / pool.numBlocks();
    }

    public boolean prefixCachingEnabled() {
        return enablePrefixCaching;
    }

    /** For tests and metrics: exact ref counts, free order and hashes. */
    BlockPool pool() {
        return pool;
    }

    /** Blocks that {@code totalTokens} tokens occupy. */
    public int blocksFor(int totalTokens) {
        return Math.ceilDiv(totalTokens, blockSize);
    }

    /**
     * First schedule of a (possibly preempted-and-resumed) sequence: finds the longest prefix of FULL blocks of
     * {@code tokens[0, numTokens)} already cached, takes a reference on each, records them as the start of the
     * sequence's block table, and returns the number of cached tokens (a multiple of blockSize).
     *
     * <p>Never returns numTokens itself: at least one token must be computed so that there are logits to sample from,
     * so only blocks that end at or before token numTokens-1 are looked up (as vLLM does). Returns 0 when prefix
     * caching is off (and counts nothing). Counters count every call, so a retried admission is counted again.
     *
     * @throws IllegalStateException when the sequence already has a table (free it first)
     */
    public int allocateCachedPrefix(String seqId, int[] tokens, int numTokens) {
        if (seqs.containsKey(seqId)) {
            throw new IllegalStateException("sequence " + seqId + " already has a block table");
        }
        if (numTokens < 1 || numTokens > tokens.length) {
            throw new IllegalArgumentException("numTokens " + numTokens + " outside [1, " + tokens.length + "]");
        }
        SeqBlocks seq = new SeqBlocks();
        seqs.put(seqId, seq);
        if (!enablePrefixCaching) {
            return 0;
        }
        prefixQueries += numTokens;
        int maxBlocks = (numTokens - 1) / blockSize;
        for (int i = 0; i < maxBlocks; i++) {
            BlockHash hash = BlockHash.of(seq.lastHash(), tokens, i * blockSize, blockSize);
            int id = pool.cachedBlock(hash);
            if (id < 0) {
                break; // chained: once one block misses, no later block of this prefix can be cached
            }
            pool.touch(id);
            seq.add(id);
            seq.hashes.add(hash);
        }
        int cachedTokens = seq.size * blockSize;
        prefixHits += cachedTokens;
        return cachedTokens;
    }

    /**
     * Ensures the sequence's table covers {@code totalTokens} tokens, taking new blocks from the head of the free LRU
     * (evicting cached ones from the hash map as they are reused). All-or-nothing: returns false and allocates nothing
     * when not enough blocks are free. A sequence without a table gets an empty one first.
     */
    public boolean allocateSlots(String seqId, int totalTokens) {
        SeqBlocks seq = seqs.computeIfAbsent(seqId, id -> new SeqBlocks());
        int needed = blocksFor(totalTokens) - seq.size;
        if (needed <= 0) {
            return true;
        }
        if (needed > pool.numFreeBlocks()) {
            return false;
        }
        for (int id : pool.allocate(needed)) {
            seq.add(id);
        }
        return true;
    }

    /** A copy of the sequence's current block table; empty for an unknown sequence. */
    /**
     * The sequence's live table for one step's use: entries [0, blocksFor(tokens)) are valid; the array is replaced
     * when the table grows, so fetch it again each step. No copy: the engine reads it for every sequence every step.
     */
    public int[] blockTableView(String seqId) {
        SeqBlocks seq = seqs.get(seqId);
        return seq == null ? new int[0] : seq.table;
    }

    public int[] blockTable(String seqId) {
        SeqBlocks seq = seqs.get(seqId);
        return seq == null ? new int[0] : Arrays.copyOf(seq.table, seq.size);
    }

    /**
     * After a step computed the sequence's tokens up to {@code numComputedTokens}: every block now full and not yet
     * hashed gets its chained hash registered, so later sequences can hit it. {@code tokens} must hold at least
     * numComputedTokens ids, unchanged since they were computed.
     */
    public void cacheFullBlocks(String seqId, int[] tokens, int numComputedTokens) {
        SeqBlocks seq = seqs.get(seqId);
        if (!enablePrefixCaching || seq == null) {
            return;
        }
        int full = Math.min(numComputedTokens / blockSize, seq.size);
        for (int i = seq.hashes.size(); i < full; i++) {
            BlockHash hash = BlockHash.of(seq.lastHash(), tokens, i * blockSize, blockSize);
            // NOTE: the chain continues from this content hash even when the pool keeps another block for it
            seq.hashes.add(hash);
            pool.cacheBlock(seq.table[i], hash);
        }
    }

    /**
     * Drops the sequence's references. Blocks reaching ref count 0 go to the free LRU tail in reverse table order, so
     * the tail of a prefix is evicted before its head (which more sequences are likely to share). Cached blocks stay
     * hashed until evicted. Idempotent: an unknown sequence is ignored.
     */
    public void free(String seqId) {
        SeqBlocks seq = seqs.remove(seqId);
        if (seq == null) {
            return;
        }
        for (int i = seq.size - 1; i >= 0; i--) {
            pool.free(seq.table[i]);
        }
    }

    /** Prompt tokens queried by {@link #allocateCachedPrefix}. */
    public long prefixQueries() {
        return prefixQueries;
    }

    /** Tokens found in the cache by {@link #allocateCachedPrefix}. */
    public long prefixHits() {
        return prefixHits;
    }
}
