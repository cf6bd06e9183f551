package io.nemotron.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FP8 linear's per-call activation quantization reuses its grow-only scratch: decode steps of the tiny ModelOpt
 * FP8 checkpoint allocate nothing once warm (the JVM's per-thread allocation counter is the oracle; the tiny model's
 * linears are below the pool's hand-off threshold, so they run on this thread).
 */
class Fp8DecodeAllocationTest {
    @TempDir
    Path dir;

    @Test
    void steadyStateFp8DecodeStepsAllocateNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Path fp8 = TinyFp8Checkpoint.write(dir.resolve("fp8"), false);
        try (LoadedModel m = LoadedModel.openCpu(fp8, 2)) {
            int steps = 400;
            SingleSequence cache = new SingleSequence(m.transformer(), steps + 8);
            float[] logits = new float[m.config().vocabSize()];
            int[] one = {1};
            cache.forward(new int[] {1, 5, 7}, 3, logits);
            // warm-up until C2 has compiled the Vector API kernels (interpreted vector code boxes)
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
            // 200 steps: anything per step or per linear (a scratch array, a boxed vector) would show as >= 3 KiB
            assertTrue(allocated < 2048, "FP8 decode allocated " + allocated + " bytes over 200 steps");
        }
    }
}
