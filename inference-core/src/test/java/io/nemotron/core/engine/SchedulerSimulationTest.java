package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.kv.KvCacheManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs the scheduler as the engine would, without a model, under memory pressure: every sequence must finish with
 * exactly its maxTokens outputs (none lost to preemption), every step must respect the limits, and the pool must end
 * all free. The oracle for each output is a function of (sequence, position), independent of scheduling.
 */
class SchedulerSimulationTest {
    private static final int BLOCK = 4;

    private static int output(int seqIndex, int outputIndex) {
        return 10_000 + seqIndex * 100 + outputIndex;
    }

    @Test
    void everySequenceFinishesUnderPreemptionAndThePoolEndsAllFree() {
        for (boolean prefixCaching : new boolean[] {false, true}) {
            run(prefixCaching);
        }
    }

    private static void run(boolean prefixCaching) {
        KvCacheManager kv = new KvCacheManager(12, BLOCK, prefixCaching);
        SchedulerConfig config = new SchedulerConfig(16, 4, 100, 8);
        Scheduler s = new Scheduler(config, kv);
        List<Sequence> all = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            int promptLen = 3 + (i * 7) % 17; // 3..19
            int[] prompt = new int[promptLen];
            for (int t = 0; t < promptLen; t++) {
                prompt[t] = t < 8 ? t + 1 : 100 * i + t; // a shared 8-token prefix (two blocks)
            }
            Sequence seq = new Sequence("r" + i, prompt, 4 + (i * 5) % 13, i % 3 == 0 ? 1 : 0, i / 2);
            all.add(seq);
            s.add(seq);
        }

        int steps = 0;
        while (s.hasWork()) {
            assertTrue(++steps < 1000, "no progress");
            SchedulerOutput out = s.schedule();
            int sum = 0;
            for (ScheduledSequence row : out.scheduled()) {
                Sequence seq = row.sequence();
                sum += row.numNewTokens();
                assertEquals(seq.numComputedTokens(), row.startPosition());
                assertTrue(row.numNewTokens() >= 1 && row.numNewTokens() <= config.longPrefillThreshold());
                assertEquals(row.startPosition() + row.numNewTokens() == seq.numTokens(), row.samples());
                assertTrue(kv.blockTable(seq.requestId()).length * BLOCK >= row.startPosition() + row.numNewTokens());
            }
            assertEquals(sum, out.numScheduledTokens());
            assertTrue(sum <= config.maxNumBatchedTokens());
            assertTrue(s.numRunning() <= config.maxNumSeqs());
            assertTrue(!out.scheduled().isEmpty() || !out.preempted().isEmpty(), "idle step with work queued");

            // each sampling sequence's next output; updateFromOutput appends it and finishes it at maxTokens
            int[] sampled = out.scheduled().stream().filter(ScheduledSequence::samples)
                    .mapToInt(row -> output(all.indexOf(row.sequence()), row.sequence().numOutputTokens())).toArray();
            for (Scheduler.SampledToken t : s.updateFromOutput(out, sampled)) {
                assertEquals(t.sequence().numOutputTokens() == t.sequence().maxTokens() ? StopReason.LENGTH : null,
                        t.finished());
                assertEquals(t.finished() != null, t.sequence().status() == Sequence.Status.FINISHED);
            }
        }

        for (int i = 0; i < all.size(); i++) {
            Sequence seq = all.get(i);
            assertEquals(Sequence.Status.FINISHED, seq.status());
            assertEquals(seq.maxTokens(), seq.numOutputTokens());
            for (int k = 0; k < seq.maxTokens(); k++) {
                assertEquals(output(i, k), seq.tokens()[seq.numPromptTokens() + k]);
            }
        }
        assertTrue(s.numPreemptions() > 0, "the pool is small enough to force preemptions");
        assertEquals(kv.numBlocks(), kv.freeBlocks());
        assertEquals(0.0, kv.usage());
        if (prefixCaching) {
            assertTrue(kv.prefixHits() > 0, "the shared prefix is hit");
        }
    }
}
