package io.nemotron.core.kv;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Fixed array of blocks (ids 0..numBlocks-1) with ref counts, a free list that is an LRU of evictable blocks with O(1)
 * removal (doubly linked), and a map hash -> cached block (vLLM v1's {@code BlockPool}).
 *
 * <p>Invariants, kept by every method: a block is in the free list iff its ref count is 0; a block is in the hash map
 * iff it has a hash and is the block registered for that hash. A free block may still carry a hash: its K/V stay valid
 * until {@link #allocate} reuses (evicts) it, so a later sequence can take it back with {@link #touch}.
 * Allocation takes from the head (least recently freed), frees append to the tail.
 *
 * <p>The list is intrusive, on two int arrays, so nothing is allocated per operation. Not thread-safe: owned by the
 * engine thread.
 */
public final class BlockPool {
    private static final int NONE = -1;

    private final int numBlocks;
    private final int[] refCount;
    private final BlockHash[] hashes;
    private final int[] prev;
    private final int[] next;
    private final Map<BlockHash, Integer> cached = new HashMap<>();
    private int head = NONE;
    private int tail = NONE;
    private int numFree;

    public BlockPool(int numBlocks) {
        if (numBlocks < 1) {
            throw new IllegalArgumentException("numBlocks must be >= 1, got " + numBlocks);
        }
        this.numBlocks = numBlocks;
        this.refCount = new int[numBlocks];
        this.hashes = new BlockHash[numBlocks];
        this.prev = new int[numBlocks];
        this.next = new int[numBlocks];
        for (int id = 0; id < numBlocks; id++) {
            append(id);
        }
    }

    public int numBlocks() {
        return numBlocks;
    }

    /** Blocks with ref count 0, cached or not (all of them can be allocated). */
    public int numFreeBlocks() {
        return numFree;
    }

    /** Blocks registered in the hash map (referenced or free). */
    public int numCachedBlocks() {
        return cached.size();
    }

    public int refCount(int blockId) {
        return refCount[blockId];
    }

    /** The block's hash, or null when it has none (partial, never cached, or evicted). */
    public BlockHash blockHash(int blockId) {
        return hashes[blockId];
    }

    /** The block registered for {@code hash}, or -1. */
    public int cachedBlock(BlockHash hash) {
        Integer id = cached.get(hash);
        return id == null ? NONE : id;
    }

    /** Free block ids from the head (next to be allocated) to the tail (most recently freed). */
    public int[] freeBlockIds() {
        int[] ids = new int[numFree];
        int i = 0;
        for (int id = head; id != NONE; id = next[id]) {
            ids[i++] = id;
        }
        return ids;
    }

    /**
     * Takes {@code n} blocks from the head of the free list, each with ref count 1. A taken block that still carries a
     * hash is evicted: its hash leaves the map, since its K/V are about to be overwritten.
     *
     * @throws IllegalStateException when fewer than n blocks are free (callers check {@link #numFreeBlocks} first)
     */
    public int[] allocate(int n) {
        if (n > numFree) {
            throw new IllegalStateException("need " + n + " blocks, only " + numFree + " free");
        }
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            int id = head;
            unlink(id);
            evict(id);
            refCount[id] = 1;
            ids[i] = id;
        }
        return ids;
    }

    /** Takes one more reference on a (cache-hit) block; a free block leaves the free list so it cannot be evicted. */
    public void touch(int blockId) {
        if (refCount[blockId]++ == 0) {
            unlink(blockId);
        }
    }

    /** Drops one reference; at 0 the block goes to the free tail, keeping its hash (evictable, still hittable). */
    public void free(int blockId) {
        if (refCount[blockId] <= 0) {
            throw new IllegalStateException("block " + blockId + " freed with ref count " + refCount[blockId]);
        }
        if (--refCount[blockId] == 0) {
            append(blockId);
        }
    }

    /**
     * Registers a full, computed, referenced block under {@code hash}. Does nothing when the block already has a hash
     * (a prefix hit) or another block already holds this hash (two sequences computed the same content at the same
     * time): the duplicate stays unhashed and is reused as a plain block once freed, so the map stays one-to-one.
     */
    public void cacheBlock(int blockId, BlockHash hash) {
        if (refCount[blockId] == 0) {
            throw new IllegalStateException("block " + blockId + " is free; only referenced blocks are cached");
        }
        if (hashes[blockId] == null && cached.putIfAbsent(hash, blockId) == null) {
            hashes[blockId] = hash;
        }
    }

    private void evict(int id) {
        if (hashes[id] != null) {
            cached.remove(hashes[id]);
            hashes[id] = null;
        }
    }

    private void append(int id) {
        prev[id] = tail;
        next[id] = NONE;
        if (tail == NONE) {
            head = id;
        } else {
            next[tail] = id;
        }
        tail = id;
        numFree++;
    }

    private void unlink(int id) {
        if (prev[id] == NONE) {
            head = next[id];
        } else {
            next[prev[id]] = next[id];
        }
        if (next[id] == NONE) {
            tail = prev[id];
        } else {
            prev[next[id]] = prev[id];
        }
        prev[id] = NONE;
        next[id] = NONE;
        numFree--;
    }

    @Override
    public String toString() {
        return "BlockPool[" + numFree + "/" + numBlocks + " free, " + cached.size() + " cached, free="
                + Arrays.toString(freeBlockIds()) + "]";
    }
}
