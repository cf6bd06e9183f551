package io.nemotron.core.engine;

import static io.nemotron.core.engine.SchedulerTest.assertRow;
import static io.nemotron.core.engine.SchedulerTest.complete;
import static io.nemotron.core.engine.SchedulerTest.seq;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.kv.KvCacheManager;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Recompute preemption with 4 blocks of 4 tokens; ids and free order worked out by hand in the comments. */
class SchedulerPreemptionTest {
    private final KvCacheManager kv = new KvCacheManager(4, 4, false);
    private final Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 8, 0), kv);

    @Test
    void theNewestIsPreemptedRequeuedAtTheFrontAndRecomputesItsOutput() {
        Sequence a = seq("a", 7, 3, 0, 0);
        Sequence b = seq("b", 7, 3, 0, 1);
        Sequence c = seq("c", 2, 1, 0, 2);
        s.add(a);
        s.add(b);
        complete(s, s.schedule()); // a [0,1], b [2,3]; both sample -> 8 tokens
        s.add(c); // no block left for it
        SchedulerOutput out = s.schedule(); // 8 tokens still fit in 2 blocks
        assertEquals(2, out.scheduled().size());
        complete(s, out); // 9 tokens each: the next decode needs a third block
        assertArrayEquals(new int[] {0, 1}, kv.blockTable("a"));

        out = s.schedule();
        assertEquals(List.of(b), out.preempted());
        assertEquals(1, out.scheduled().size());
        assertRow(out.scheduled().getFirst(), a, 1, 8, true);
        assertArrayEquals(new int[] {0, 1, 3}, kv.blockTable("a")); // b freed 3 then 2; a took the head, 3
        assertArrayEquals(new int[0], kv.blockTable("b"));
        assertEquals(1, kv.freeBlocks());
        assertEquals(Sequence.Status.WAITING, b.status());
        assertEquals(0, b.numComputedTokens());
        assertEquals(1, b.numPreemptions());
        assertEquals(1, s.numPreemptions());
        assertEquals(List.of(b, c), s.waiting()); // front of the queue, ahead of the later c
        complete(s, out);
        assertEquals(3, a.numOutputTokens());
        s.finish(a); // maxTokens reached; frees 3, 1, 0 -> free list [2, 3, 1, 0]

        out = s.schedule(); // b recomputes prompt + its 2 outputs, and c fits beside it
        assertRow(out.scheduled().get(0), b, 9, 0, true);
        assertRow(out.scheduled().get(1), c, 2, 0, true);
        assertArrayEquals(new int[] {2, 3, 1}, kv.blockTable("b"));
        assertArrayEquals(new int[] {0}, kv.blockTable("c"));
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6, 7, 900, 900}, Arrays.copyOf(b.tokens(), 9));
        assertEquals(Sequence.Status.RUNNING, b.status());
    }

    @Test
    void aSequenceThatIsTheVictimPreemptsItself() {
        Sequence a = seq("a", 6, 3, 0, 0); // [0,1], room up to 8 tokens
        Sequence b = seq("b", 8, 3, 0, 1); // [2,3], full
        s.add(a);
        s.add(b);
        complete(s, s.schedule()); // a 7 tokens, b 9 tokens
        SchedulerOutput out = s.schedule();
        assertEquals(List.of(b), out.preempted());
        assertEquals(1, out.scheduled().size());
        assertRow(out.scheduled().getFirst(), a, 1, 6, true);
        assertEquals(2, kv.freeBlocks());
        assertEquals(List.of(a), s.running());
    }

    @Test
    void theLowestPriorityIsPreemptedEvenWhenOlder() {
        Sequence low = seq("low", 7, 3, 1, 0);
        Sequence high = seq("high", 7, 3, 0, 1);
        s.add(low);
        s.add(high);
        complete(s, s.schedule()); // high first: high [0,1], low [2,3]
        assertEquals(List.of(high, low), s.running());
        complete(s, s.schedule());
        SchedulerOutput out = s.schedule(); // high needs a third block
        assertEquals(List.of(low), out.preempted());
        assertRow(out.scheduled().getFirst(), high, 1, 8, true);
        assertArrayEquals(new int[] {0, 1, 3}, kv.blockTable("high"));
    }

    @Test
    void aVictimAlreadyScheduledThisStepIsUnscheduledAndItsTokensReturned() {
        Sequence low = seq("low", 5, 3, 1, 0); // admitted first, before high arrives
        s.add(low);
        complete(s, s.schedule()); // low [0,1], 6 tokens
        Sequence high = seq("high", 8, 3, 0, 1);
        s.add(high);
        complete(s, s.schedule()); // low decodes (7 tokens), high [2,3] (9 tokens)
        assertEquals(List.of(low, high), s.running());

        SchedulerOutput out = s.schedule(); // low fits and runs first; then high needs a block and low is the victim
        assertEquals(List.of(low), out.preempted());
        assertEquals(1, out.scheduled().size());
        assertRow(out.scheduled().getFirst(), high, 1, 8, true);
        assertEquals(1, out.numScheduledTokens());
        assertArrayEquals(new int[] {2, 3, 1}, kv.blockTable("high")); // low freed 1 then 0
        assertEquals(List.of(low), s.waiting());
    }

    @Test
    void nothingIsAdmittedInAStepThatPreempted() {
        Sequence a = seq("a", 6, 3, 0, 0);
        Sequence b = seq("b", 8, 3, 0, 1);
        s.add(a);
        s.add(b);
        complete(s, s.schedule());
        SchedulerOutput out = s.schedule(); // b preempts itself; 2 blocks are free, but b is not readmitted now
        assertEquals(List.of(b), out.preempted());
        assertTrue(out.scheduled().stream().noneMatch(r -> r.sequence() == b));
        complete(s, out);
        out = s.schedule(); // a: 8 tokens in 2 blocks; b: 9 tokens need 3 of the 2 free -> still waits
        assertEquals(1, out.scheduled().size());
        assertEquals(List.of(b), s.waiting());
    }
}
