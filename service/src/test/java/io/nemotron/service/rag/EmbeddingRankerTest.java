package io.nemotron.service.rag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EmbeddingRankerTest {

    @Test
    void modelThatFailsToLoadFallsBackToBm25AndIsTriedOnce() {
        AtomicInteger loads = new AtomicInteger();
        EmbeddingRanker broken = new EmbeddingRanker(() -> {
            loads.incrementAndGet();
            throw new UnsatisfiedLinkError("no onnxruntime for this platform");
        });
        RagAssembler assembler = new RagAssembler(RagTesting.llamaCounter(), RagOptions.DEFAULTS, broken);
        List<RagDocument> docs = List.of(new RagDocument("a", null, "Cats purr when content.", null),
                new RagDocument("b", null, "Transformers use attention layers.", null));
        for (int i = 0; i < 3; i++) {
            RagContext ctx = assembler.assemble(docs, "what do transformers use", 10_000);
            assertEquals(List.of("a", "b"), ctx.usedIds());
        }
        assertEquals(1, loads.get());
        assertFalse(broken.warmUp());
    }

    @Test
    void sharedModelLoadsOnceAndRanksBySimilarity() throws Exception {
        EmbeddingRanker shared = EmbeddingRanker.shared();
        assertTrue(shared.warmUp());
        double[][] results = new double[4][];
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            int slot = t;
            threads[t] = Thread.ofPlatform().start(() -> results[slot] = shared.scores("a feline pet",
                    List.of("The cat sat on the mat.", "Quarterly revenue grew by four percent.")).orElseThrow());
        }
        for (Thread t : threads) {
            t.join();
        }
        for (double[] r : results) {
            assertTrue(r[0] > r[1], java.util.Arrays.toString(r));
            assertEquals(results[0][0], r[0], 1e-6);
        }
    }
}
