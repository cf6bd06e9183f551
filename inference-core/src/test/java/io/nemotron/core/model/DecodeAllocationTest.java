package io.nemotron.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.Reference;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** The decode hot loop allocates nothing per token (the JVM's own per-thread allocation counter is the oracle). */
class DecodeAllocationTest {

    @Test
    void steadyStateDecodeStepsAllocateNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (LoadedModel m = LoadedModel.openCpu(Reference.path("nemotron-nas-tiny/nas-tiny-a-bf16"), 2)) {
            int steps = 400;
            SingleSequence cache = new SingleSequence(m.transformer(), steps + 8);
            float[] logits = new float[m.config().vocabSize()];
            int[] one = {1};
            cache.forward(new int[] {1, 5, 7}, 3, logits);
            // warm-up until C2 has compiled the Vector API kernels (interpreted vector code boxes), rewinding the
            // cache to stay inside the context
            for (int i = 0; i < 6000; i++) {
                if (cache.length() == cache.capacity()) {
                    cache.setLength(3);
                }
                cache.forward(one, 1, logits);
            }
            cache.setLength(3);
            long tid = Thread.currentThread().threadId();
            long before = threads.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 200; i++) {
                one[0] = (i * 31) % 256;
                cache.forward(one, 1, logits);
            }
            long allocated = threads.getThreadAllocatedBytes(tid) - before;
            // 200 steps: anything per step (a lambda, a boxed int, a copy) would show as >= 3 KiB
            assertTrue(allocated < 2048, "decode allocated " + allocated + " bytes over 200 steps");
        }
    }
}
