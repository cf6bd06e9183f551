package io.nemotron.core.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Block size 4 throughout; ids, ref counts and free order are worked out by hand in the comments. */
class KvCacheManagerTest {
    private static final int[] A = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; // blocks [1-4] [5-8] [9,10 partial]

    private static int[] range(int from, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = from + i;
        }
        return t;
    }

    private static void assertAllFree(KvCacheManager kv) {
        assertEquals(kv.numBlocks(), kv.freeBlocks());
        for (int id = 0; id < kv.numBlocks(); id++) {
            assertEquals(0, kv.pool().refCount(id), "block " + id);
        }
        assertEquals(0.0, kv.usage());
    }

    @Test
    void sharedPrefixSharesBlockIdsAndFreeOrderIsReverseTable() {
        KvCacheManager kv = new KvCacheManager(6, 4, true);
        BlockPool pool = kv.pool();

        assertEquals(0, kv.allocateCachedPrefix("a", A, 10));
        assertTrue(kv.allocateSlots("a", 10));
        assertArrayEquals(new int[] {0, 1, 2}, kv.blockTable("a"));
        assertArrayEquals(new int[] {3, 4, 5}, pool.freeBlockIds());
        assertEquals(0.5, kv.usage());
        kv.cacheFullBlocks("a", A, 10);
        assertNotNull(pool.blockHash(0));
        assertNotNull(pool.blockHash(1));
        assertNull(pool.blockHash(2)); // tokens 9,10: partial, never shared

        assertEquals(8, kv.allocateCachedPrefix("b", A, 10));
        assertArrayEquals(new int[] {0, 1}, kv.blockTable("b"));
        assertEquals(2, pool.refCount(0));
        assertEquals(2, pool.refCount(1));
        assertTrue(kv.allocateSlots("b", 10));
        assertArrayEquals(new int[] {0, 1, 3}, kv.blockTable("b"));
        assertArrayEquals(new int[] {4, 5}, pool.freeBlockIds());
        assertEquals(2, kv.freeBlocks());

        kv.free("a"); // reverse: 2 -> 0 (to tail), 1 -> 1, 0 -> 1
        assertArrayEquals(new int[] {4, 5, 2}, pool.freeBlockIds());
        assertEquals(1, pool.refCount(0));
        kv.free("b"); // reverse: 3, 1, 0 all reach 0
        assertArrayEquals(new int[] {4, 5, 2, 3, 1, 0}, pool.freeBlockIds());
        assertEquals(2, pool.numCachedBlocks()); // freed but still hittable
        assertAllFree(kv);

        // a hit on free cached blocks takes them out of the free list
        assertEquals(8, kv.allocateCachedPrefix("c", A, 10));
        assertArrayEquals(new int[] {4, 5, 2, 3}, pool.freeBlockIds());
        assertTrue(kv.allocateSlots("c", 12));
        assertArrayEquals(new int[] {0, 1, 4}, kv.blockTable("c"));
        assertArrayEquals(new int[] {5, 2, 3}, pool.freeBlockIds());

        assertEquals(30, kv.prefixQueries());
        assertEquals(16, kv.prefixHits());
        kv.free("c");
        assertAllFree(kv);
    }

    @Test
    void evictionReusesTheLruBlockAndDropsItsHash() {
        KvCacheManager kv = new KvCacheManager(6, 4, true);
        BlockPool pool = kv.pool();
        kv.allocateCachedPrefix("a", A, 10);
        kv.allocateSlots("a", 10);
        kv.cacheFullBlocks("a", A, 10);
        kv.free("a");
        assertArrayEquals(new int[] {3, 4, 5, 2, 1, 0}, pool.freeBlockIds());

        int[] other = range(100, 20);
        assertEquals(0, kv.allocateCachedPrefix("d", other, 20));
        assertTrue(kv.allocateSlots("d", 20));
        assertArrayEquals(new int[] {3, 4, 5, 2, 1}, kv.blockTable("d")); // block 1 ([5-8]) evicted, 0 kept
        assertNull(pool.blockHash(1));
        assertEquals(1, pool.numCachedBlocks());

        // the chain breaks at the evicted block: only [1-4] hits
        assertEquals(4, kv.allocateCachedPrefix("e", A, 10));
        assertArrayEquals(new int[] {0}, kv.blockTable("e"));
        assertFalse(kv.allocateSlots("e", 10)); // needs 2 more, none free
        kv.free("d");
        kv.free("e");
        assertAllFree(kv);
    }

    @Test
    void sameContentAfterADifferentPrefixDoesNotHit() {
        KvCacheManager kv = new KvCacheManager(8, 4, true);
        int[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        kv.allocateCachedPrefix("x", x, 9);
        kv.allocateSlots("x", 9);
        kv.cacheFullBlocks("x", x, 9);

        int[] y = {9, 9, 9, 9, 5, 6, 7, 8, 9}; // second block equal to x's, first differs
        assertEquals(0, kv.allocateCachedPrefix("y", y, 9));
        int[] z = {1, 2, 3, 4, 9, 9, 9, 9, 9}; // first block equal, second differs
        assertEquals(4, kv.allocateCachedPrefix("z", z, 9));
        assertArrayEquals(new int[] {0}, kv.blockTable("z"));
    }

    @Test
    void thePartialLastBlockIsSharedOnlyOnceFull() {
        KvCacheManager kv = new KvCacheManager(8, 4, true);
        int[] a = {1, 2, 3, 4, 5, 6, 0, 0};
        kv.allocateCachedPrefix("a", a, 6);
        kv.allocateSlots("a", 6);
        kv.cacheFullBlocks("a", a, 6);
        assertNull(kv.pool().blockHash(1));

        int[] b = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertEquals(4, kv.allocateCachedPrefix("b", b, 9));
        kv.free("b");

        // a decodes 7 and 8: block 1 is now full and computed, so it is registered
        a[6] = 7;
        a[7] = 8;
        kv.allocateSlots("a", 8);
        kv.cacheFullBlocks("a", a, 8);
        assertNotNull(kv.pool().blockHash(1));
        assertEquals(8, kv.allocateCachedPrefix("b2", b, 9));
        assertArrayEquals(new int[] {0, 1}, kv.blockTable("b2"));
    }

    @Test
    void neverReturnsTheWholePrompt() {
        KvCacheManager kv = new KvCacheManager(8, 4, true);
        int[] p8 = range(1, 8);
        kv.allocateCachedPrefix("a", p8, 8);
        kv.allocateSlots("a", 8);
        kv.cacheFullBlocks("a", p8, 8);
        assertEquals(2, kv.pool().numCachedBlocks());

        // both blocks cached, but the last token must run to give logits: only blocks ending by token 7
        assertEquals(4, kv.allocateCachedPrefix("b", p8, 8));
        assertEquals(2, kv.pool().refCount(0));
        assertEquals(1, kv.pool().refCount(1));
        int[] p9 = range(1, 9);
        assertEquals(8, kv.allocateCachedPrefix("c", p9, 9));
        assertEquals(0, kv.allocateCachedPrefix("d", new int[] {1}, 1));
        assertThrows(IllegalStateException.class, () -> kv.allocateCachedPrefix("c", p9, 9));
    }

    @Test
    void allocateSlotsIsAllOrNothing() {
        KvCacheManager kv = new KvCacheManager(4, 4, true);
        assertTrue(kv.allocateSlots("a", 12));
        assertArrayEquals(new int[] {0, 1, 2}, kv.blockTable("a"));
        assertFalse(kv.allocateSlots("b", 8));
        assertArrayEquals(new int[0], kv.blockTable("b"));
        assertArrayEquals(new int[] {3}, kv.pool().freeBlockIds());
        assertTrue(kv.allocateSlots("a", 11)); // already covered: no-op
        assertTrue(kv.allocateSlots("b", 4));
        assertArrayEquals(new int[] {3}, kv.blockTable("b"));
        assertEquals(1.0, kv.usage());
        kv.free("a");
        kv.free("b");
        kv.free("b"); // idempotent
        assertAllFree(kv);
    }

    @Test
    void withPrefixCachingOffNothingIsHashedOrCounted() {
        KvCacheManager kv = new KvCacheManager(8, 4, false);
        kv.allocateCachedPrefix("a", A, 10);
        kv.allocateSlots("a", 10);
        kv.cacheFullBlocks("a", A, 10);
        assertEquals(0, kv.pool().numCachedBlocks());
        assertEquals(0, kv.allocateCachedPrefix("b", A, 10));
        assertEquals(0, kv.prefixQueries());
        assertEquals(0, kv.prefixHits());
    }
}
