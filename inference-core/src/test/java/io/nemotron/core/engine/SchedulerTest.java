package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.kv.KvCacheManager;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Budget, chunking, admission order and bookkeeping; preemption is in SchedulerPreemptionTest. Block size 4. */
class SchedulerTest {
    static int[] prompt(int from, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = from + i;
        }
        return t;
    }

    static Sequence seq(String id, int promptLen, int maxTokens, int priority, long arrival) {
        return new Sequence(id, prompt(1, promptLen), maxTokens, priority, arrival);
    }

    /** Asserts one scheduled row: which sequence, numNew, startPosition, samples. */
    static void assertRow(ScheduledSequence s, Sequence seq, int numNew, int start, boolean samples) {
        assertSame(seq, s.sequence());
        assertEquals(numNew, s.numNewTokens(), seq.requestId() + " numNew");
        assertEquals(start, s.startPosition(), seq.requestId() + " start");
        assertEquals(samples, s.samples(), seq.requestId() + " samples");
    }

    /** Completes the step with token 900 sampled for every sampling sequence, as the engine would. */
    static List<Scheduler.SampledToken> complete(Scheduler s, SchedulerOutput out) {
        int[] sampled = new int[(int) out.scheduled().stream().filter(ScheduledSequence::samples).count()];
        java.util.Arrays.fill(sampled, 900);
        return s.updateFromOutput(out, sampled);
    }

    @Test
    void decodesAndAChunkedPrefillShareTheTokenBudget() {
        Scheduler s = new Scheduler(new SchedulerConfig(10, 8, 8, 0), new KvCacheManager(100, 4, false));
        Sequence a = seq("a", 3, 10, 0, 0);
        Sequence b = seq("b", 3, 10, 0, 1);
        s.add(a);
        s.add(b);
        SchedulerOutput out = s.schedule();
        assertEquals(2, out.scheduled().size());
        assertRow(out.scheduled().get(0), a, 3, 0, true);
        assertRow(out.scheduled().get(1), b, 3, 0, true);
        assertEquals(6, out.numScheduledTokens());
        complete(s, out);

        Sequence c = seq("c", 20, 10, 0, 2);
        s.add(c);
        out = s.schedule(); // decodes first, then c gets what is left of the budget: 10 - 2
        assertRow(out.scheduled().get(0), a, 1, 3, true);
        assertRow(out.scheduled().get(1), b, 1, 3, true);
        assertRow(out.scheduled().get(2), c, 8, 0, false);
        assertEquals(10, out.numScheduledTokens());
        complete(s, out);
        assertEquals(Sequence.Status.RUNNING, c.status()); // mid-prefill stays running

        out = s.schedule();
        assertRow(out.scheduled().get(2), c, 8, 8, false);
        assertEquals(10, out.numScheduledTokens());
        complete(s, out);
        out = s.schedule();
        assertRow(out.scheduled().get(0), a, 1, 5, true);
        assertRow(out.scheduled().get(2), c, 4, 16, true);
        assertEquals(6, out.numScheduledTokens());
        complete(s, out);
        out = s.schedule();
        assertRow(out.scheduled().get(2), c, 1, 20, true);
        assertEquals(3, out.numScheduledTokens());
    }

    @Test
    void aPromptLongerThanTheBudgetIsChunkedOverSteps() {
        KvCacheManager kv = new KvCacheManager(100, 4, false);
        Scheduler s = new Scheduler(new SchedulerConfig(8, 8, 8, 0), kv);
        Sequence a = seq("a", 20, 5, 0, 0);
        s.add(a);
        int[][] expected = {{8, 0, 0}, {8, 8, 0}, {4, 16, 1}, {1, 20, 1}};
        for (int[] e : expected) {
            SchedulerOutput out = s.schedule();
            assertEquals(1, out.scheduled().size());
            assertRow(out.scheduled().getFirst(), a, e[0], e[1], e[2] == 1);
            assertEquals(Math.ceilDiv(e[0] + e[1], 4), kv.blockTable("a").length); // blocks follow the chunks
            complete(s, out);
        }
        assertEquals(21, a.numComputedTokens());
        assertEquals(22, a.numTokens());
    }

    @Test
    void longPrefillThresholdCapsOneSequencesChunk() {
        Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 8, 6), new KvCacheManager(100, 4, false));
        Sequence a = seq("a", 10, 5, 0, 0);
        Sequence b = seq("b", 4, 5, 0, 1);
        s.add(a);
        s.add(b);
        SchedulerOutput out = s.schedule();
        assertRow(out.scheduled().get(0), a, 6, 0, false);
        assertRow(out.scheduled().get(1), b, 4, 0, true);
        complete(s, out);
        out = s.schedule();
        assertRow(out.scheduled().get(0), a, 4, 6, true);
        assertRow(out.scheduled().get(1), b, 1, 4, true);
    }

    @Test
    void maxNumSeqsLimitsRunningSequences() {
        Scheduler s = new Scheduler(new SchedulerConfig(100, 2, 8, 0), new KvCacheManager(100, 4, false));
        Sequence a = seq("a", 3, 5, 0, 0);
        Sequence b = seq("b", 3, 5, 0, 1);
        Sequence c = seq("c", 3, 5, 0, 2);
        s.add(a);
        s.add(b);
        s.add(c);
        SchedulerOutput out = s.schedule();
        assertEquals(2, out.scheduled().size());
        assertEquals(2, s.numRunning());
        assertEquals(List.of(c), s.waiting());
        complete(s, out);
        s.finish(a);
        out = s.schedule();
        assertRow(out.scheduled().get(0), b, 1, 3, true);
        assertRow(out.scheduled().get(1), c, 3, 0, true);
    }

    @Test
    void waitingIsOrderedByPriorityThenArrivalThenAddOrder() {
        Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 8, 0), new KvCacheManager(100, 4, false));
        Sequence x = seq("x", 2, 5, 1, 0);
        Sequence y = seq("y", 2, 5, 0, 1);
        Sequence z = seq("z", 2, 5, 1, 2);
        Sequence w = seq("w", 2, 5, 0, 3);
        Sequence v = seq("v", 2, 5, 0, 3); // same key as w, added later
        for (Sequence q : List.of(x, y, z, w, v)) {
            s.add(q);
        }
        assertEquals(List.of(y, w, v, x, z), s.waiting());
        SchedulerOutput out = s.schedule();
        assertEquals(List.of(y, w, v, x, z), out.scheduled().stream().map(ScheduledSequence::sequence).toList());
        assertEquals(List.of(y, w, v, x, z), s.running());
    }

    @Test
    void theHeadIsNeverOvertakenByALaterSequenceThatWouldFit() {
        KvCacheManager kv = new KvCacheManager(4, 4, false);
        Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 8, 0), kv);
        Sequence a = seq("a", 5, 3, 0, 0); // 2 blocks
        s.add(a);
        complete(s, s.schedule());
        Sequence big = seq("big", 12, 1, 0, 1); // 3 blocks, only 2 free
        Sequence small = seq("small", 2, 1, 0, 2); // 1 block: would fit
        s.add(big);
        s.add(small);
        SchedulerOutput out = s.schedule();
        assertEquals(1, out.scheduled().size());
        assertRow(out.scheduled().getFirst(), a, 1, 5, true);
        assertEquals(List.of(big, small), s.waiting());
        assertEquals(Sequence.Status.WAITING, big.status());
        assertEquals(0, big.numComputedTokens());
        assertEquals(2, kv.freeBlocks()); // the failed admission kept nothing
    }

    @Test
    void maxWaitingRejectsWithEngineOverloaded() {
        Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 2, 0), new KvCacheManager(100, 4, false));
        s.add(seq("a", 2, 5, 0, 0));
        s.add(seq("b", 2, 5, 0, 1));
        EngineOverloadedException e = assertThrows(EngineOverloadedException.class, () -> s.add(seq("c", 2, 5, 0, 2)));
        assertTrue(e.getMessage().contains("maxWaiting=2"), e.getMessage());
        s.schedule(); // both admitted: room again
        s.add(seq("c", 2, 5, 0, 2));
        assertEquals(1, s.numWaiting());
    }

    @Test
    void addRefusesDuplicatesAndSequencesThatCanNeverFit() {
        Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 8, 0), new KvCacheManager(4, 4, false));
        Sequence a = seq("a", 8, 9, 0, 0); // 8 + 9 - 1 = 16 computed tokens = 4 blocks: fits exactly
        s.add(a);
        assertThrows(IllegalStateException.class, () -> s.add(a));
        assertThrows(IllegalArgumentException.class, () -> s.add(seq("a", 2, 1, 0, 1)));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> s.add(seq("b", 8, 10, 0, 1)));
        assertTrue(e.getMessage().contains("need 5 KV blocks, the cache has 4"), e.getMessage());
    }

    @Test
    void finishIsIdempotentForWaitingRunningAndUnknownSequences() {
        KvCacheManager kv = new KvCacheManager(10, 4, false);
        Scheduler s = new Scheduler(new SchedulerConfig(100, 1, 8, 0), kv);
        Sequence run = seq("run", 6, 5, 0, 0);
        Sequence wait = seq("wait", 6, 5, 0, 1);
        s.add(run);
        s.add(wait);
        s.schedule();
        assertEquals(8, kv.freeBlocks());

        s.finish(wait);
        s.finish(wait);
        assertEquals(Sequence.Status.FINISHED, wait.status());
        assertEquals(0, s.numWaiting());

        Sequence impostor = seq("run", 6, 5, 0, 0); // same id, never added: must not free run's blocks
        s.finish(impostor);
        assertEquals(Sequence.Status.FINISHED, impostor.status());
        assertEquals(8, kv.freeBlocks());
        assertArrayEquals(new int[] {0, 1}, kv.blockTable("run"));

        s.finish(run);
        s.finish(run);
        assertEquals(10, kv.freeBlocks());
        assertFalse(s.hasWork());
        assertThrows(IllegalStateException.class, () -> run.appendToken(1));
    }

    @Test
    void updateFromOutputAppendsAppliesTokenStopsAndFreesTheStoppedSequences() {
        KvCacheManager kv = new KvCacheManager(10, 4, false);
        Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 8, 0), kv);
        Sequence a = new Sequence("a", prompt(1, 3), 0, 0, new TokenStops(5, new int[] {2}));  // stop id 2
        Sequence b = new Sequence("b", prompt(1, 6), 0, 1, new TokenStops(2, new int[] {2}));  // max_tokens 2
        s.add(a);
        s.add(b);
        SchedulerOutput out = s.schedule();   // a: rows 0..2 (block 0), b: rows 0..5 (blocks 1, 2)
        assertEquals(7, kv.freeBlocks());
        List<Scheduler.SampledToken> appended = s.updateFromOutput(out, new int[] {7, 8});
        assertEquals(List.of(new Scheduler.SampledToken(a, 7, null), new Scheduler.SampledToken(b, 8, null)), appended);
        assertArrayEquals(new int[] {1, 2, 3, 7}, Arrays.copyOf(a.tokens(), a.numTokens()));
        assertEquals(3, a.numComputedTokens());
        assertEquals(6, b.numComputedTokens());

        out = s.schedule();                    // a: row 3 (still block 0), b: row 6 (block 2)
        assertRow(out.scheduled().get(0), a, 1, 3, true);
        assertRow(out.scheduled().get(1), b, 1, 6, true);
        assertEquals(7, kv.freeBlocks());
        appended = s.updateFromOutput(out, new int[] {2, 2});
        // a: 2 is its stop id; b: its 2nd output reaches max_tokens, which wins over the stop id (vLLM v1's order)
        assertEquals(List.of(new Scheduler.SampledToken(a, 2, StopReason.STOP),
                new Scheduler.SampledToken(b, 2, StopReason.LENGTH)), appended);
        assertEquals(Sequence.Status.FINISHED, a.status());
        assertEquals(Sequence.Status.FINISHED, b.status());
        assertArrayEquals(new int[] {1, 2, 3, 7, 2}, Arrays.copyOf(a.tokens(), a.numTokens()));
        assertEquals(10, kv.freeBlocks());
        assertFalse(s.hasWork());
    }

    @Test
    void updateFromOutputRefusesAWrongNumberOfSampledTokens() {
        Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 8, 0), new KvCacheManager(10, 4, false));
        s.add(seq("a", 3, 5, 0, 0));
        SchedulerOutput out = s.schedule();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.updateFromOutput(out, new int[] {1, 2}));
        assertEquals("the step has 1 sampling sequences but 2 sampled tokens", e.getMessage());
    }

    @Test
    void aFinishedSequenceInTheStepIsSkippedAndOutputsApplyOnce() {
        Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 8, 0), new KvCacheManager(10, 4, false));
        Sequence a = seq("a", 3, 5, 0, 0);
        Sequence b = seq("b", 3, 5, 0, 1);
        s.add(a);
        s.add(b);
        SchedulerOutput out = s.schedule();
        s.finish(b); // cancelled while the step ran
        List<Scheduler.SampledToken> appended = s.updateFromOutput(out, new int[] {7, 8});
        assertEquals(1, appended.size());
        assertSame(a, appended.get(0).sequence());
        assertEquals(7, appended.get(0).token());
        assertEquals(3, a.numComputedTokens());
        assertEquals(4, a.numTokens());
        assertEquals(3, b.numTokens()); // b's sampled token is dropped
        assertThrows(IllegalStateException.class, () -> s.updateFromOutput(out, new int[] {7, 8}));
    }

    @Test
    void prefixHitsReduceTheScheduledTokensOfASecondSequence() {
        KvCacheManager kv = new KvCacheManager(20, 4, true);
        Scheduler s = new Scheduler(new SchedulerConfig(100, 8, 8, 0), kv);
        Sequence a = seq("a", 10, 5, 0, 0);
        s.add(a);
        SchedulerOutput out = s.schedule();
        assertRow(out.scheduled().getFirst(), a, 10, 0, true);
        complete(s, out); // blocks [1-4] and [5-8] are now cached

        Sequence b = seq("b", 10, 5, 0, 1);
        s.add(b);
        out = s.schedule();
        assertRow(out.scheduled().get(0), a, 1, 10, true);
        assertRow(out.scheduled().get(1), b, 2, 8, true);
        assertEquals(3, out.numScheduledTokens());
        assertEquals(8, b.numCachedTokens());
        assertEquals(8, b.numComputedTokens());
        assertArrayEquals(new int[] {0, 1, 3}, kv.blockTable("b"));
        assertEquals(20, kv.prefixQueries());
        assertEquals(8, kv.prefixHits());
    }
}
