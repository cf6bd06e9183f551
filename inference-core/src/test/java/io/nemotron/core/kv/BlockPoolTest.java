package io.nemotron.core.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class BlockPoolTest {
    private static BlockHash hash(int... tokens) {
        return BlockHash.of(BlockHash.ROOT, tokens, 0, tokens.length);
    }

    @Test
    void freshPoolHasEveryBlockFreeInIdOrder() {
        BlockPool pool = new BlockPool(5);
        assertEquals(5, pool.numFreeBlocks());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, pool.freeBlockIds());
        assertEquals(0, pool.refCount(3));
        assertThrows(IllegalArgumentException.class, () -> new BlockPool(0));
    }

    @Test
    void allocateTakesTheHeadAndFreeAppendsToTheTail() {
        BlockPool pool = new BlockPool(5);
        assertArrayEquals(new int[] {0, 1}, pool.allocate(2));
        assertEquals(1, pool.refCount(0));
        assertArrayEquals(new int[] {2, 3, 4}, pool.freeBlockIds());

        pool.free(1);
        pool.free(0);
        assertArrayEquals(new int[] {2, 3, 4, 1, 0}, pool.freeBlockIds());
        assertEquals(0, pool.refCount(1));
        assertArrayEquals(new int[] {2, 3, 4}, pool.allocate(3));
        assertArrayEquals(new int[] {1, 0}, pool.freeBlockIds());
    }

    @Test
    void touchRemovesAFreeBlockFromAnywhereInTheList() {
        BlockPool pool = new BlockPool(5);
        pool.touch(2); // middle
        assertArrayEquals(new int[] {0, 1, 3, 4}, pool.freeBlockIds());
        pool.touch(0); // head
        pool.touch(4); // tail
        assertArrayEquals(new int[] {1, 3}, pool.freeBlockIds());
        assertEquals(2, pool.numFreeBlocks());

        pool.touch(2); // already referenced: only the count moves
        assertEquals(2, pool.refCount(2));
        pool.free(2);
        assertArrayEquals(new int[] {1, 3}, pool.freeBlockIds());
        pool.free(2);
        assertArrayEquals(new int[] {1, 3, 2}, pool.freeBlockIds());
    }

    @Test
    void aFreedCachedBlockStaysHittableUntilReallocatedThenItsHashIsEvicted() {
        BlockPool pool = new BlockPool(3);
        BlockHash h = hash(7, 8, 9, 10);
        int id = pool.allocate(1)[0];
        assertEquals(0, id);
        pool.cacheBlock(0, h);
        assertEquals(0, pool.cachedBlock(h));
        assertEquals(h, pool.blockHash(0));

        pool.free(0);
        assertArrayEquals(new int[] {1, 2, 0}, pool.freeBlockIds());
        assertEquals(0, pool.cachedBlock(h)); // evictable, not yet evicted

        assertArrayEquals(new int[] {1, 2}, pool.allocate(2)); // LRU head first: block 0 survives
        assertEquals(0, pool.cachedBlock(h));
        assertArrayEquals(new int[] {0}, pool.allocate(1)); // now reused: evicted
        assertEquals(-1, pool.cachedBlock(h));
        assertNull(pool.blockHash(0));
        assertEquals(0, pool.numCachedBlocks());
    }

    @Test
    void aSecondBlockWithTheSameHashStaysUnhashed() {
        BlockPool pool = new BlockPool(2);
        BlockHash h = hash(1, 2);
        pool.allocate(2);
        pool.cacheBlock(0, h);
        pool.cacheBlock(1, hash(1, 2));
        assertEquals(0, pool.cachedBlock(h));
        assertNull(pool.blockHash(1));
        assertEquals(1, pool.numCachedBlocks());
    }

    @Test
    void hashesChainOnTheParentAndCompareTokens() {
        int[] tokens = {5, 6, 7, 8};
        BlockHash afterRoot = BlockHash.of(BlockHash.ROOT, tokens, 0, 4);
        BlockHash afterOther = BlockHash.of(hash(1, 2, 3, 4).value(), tokens, 0, 4);
        assertEquals(afterRoot, BlockHash.of(BlockHash.ROOT, new int[] {0, 5, 6, 7, 8}, 1, 4));
        assertNotEquals(afterRoot, afterOther);
        // equal values but different tokens (a forged collision) are different blocks
        assertNotEquals(afterRoot, new BlockHash(afterRoot.value(), new int[] {5, 6, 7, 9}));
    }

    @Test
    void misuseIsRefused() {
        BlockPool pool = new BlockPool(2);
        assertThrows(IllegalStateException.class, () -> pool.allocate(3));
        assertArrayEquals(new int[] {0, 1}, pool.freeBlockIds()); // nothing taken
        assertThrows(IllegalStateException.class, () -> pool.free(0));
        assertThrows(IllegalStateException.class, () -> pool.cacheBlock(1, hash(1)));
    }
}
