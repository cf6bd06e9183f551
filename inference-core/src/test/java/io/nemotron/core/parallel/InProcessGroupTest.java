package io.nemotron.core.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.nemotron.core.backend.Communicator;
import io.nemotron.core.backend.CommunicatorException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InProcessGroupTest {

    @Test
    void allReduceSumsInRankOrderOnEveryRank() throws Exception {
        InProcessGroup group = new InProcessGroup(3);
        float[][] bufs = {{1f, 1e8f, 0f}, {2f, 1f, 0.5f}, {3f, -1e8f, 0.25f}};
        run(group, bufs);
        // (1e8 + 1) - 1e8 in rank order is 0 in float: the same bits on every rank
        for (float[] b : bufs) {
            assertArrayEquals(new float[] {6f, 0f, 0.75f}, b);
        }
    }

    @Test
    void aFailedRankBreaksTheCollectiveOnEveryOtherRankAndTheGroupWorksAgain() throws Exception {
        InProcessGroup group = new InProcessGroup(3);
        List<CompletableFuture<Void>> waiting = new ArrayList<>();
        for (int r = 1; r < 3; r++) {
            Communicator c = group.member(r);
            waiting.add(CompletableFuture.runAsync(() -> c.allReduceSum(new float[] {1f}, 0, 1),
                    task -> Thread.ofPlatform().start(task)));
        }
        Thread.sleep(100);   // ranks 1 and 2 wait for rank 0, which failed before its all-reduce
        group.abort();
        for (CompletableFuture<Void> f : waiting) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> f.get(5, TimeUnit.SECONDS));
            assertInstanceOf(CommunicatorException.class, e.getCause());
        }
        // rank 0 comes to the same collective after the abort: it fails at once instead of waiting forever
        var late = org.junit.jupiter.api.Assertions.assertThrows(CommunicatorException.class,
                () -> group.member(0).allReduceSum(new float[] {1f}, 0, 1));
        assertInstanceOf(CommunicatorException.class, late);
        group.reset();
        float[][] bufs = {{1f}, {2f}, {4f}};
        run(group, bufs);
        for (float[] b : bufs) {
            assertArrayEquals(new float[] {7f}, b);
        }
    }

    private static void run(InProcessGroup group, float[][] bufs) throws Exception {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int r = 0; r < bufs.length; r++) {
            Communicator c = group.member(r);
            float[] b = bufs[r];
            all.add(CompletableFuture.runAsync(() -> c.allReduceSum(b, 0, b.length),
                    task -> Thread.ofPlatform().start(task)));
        }
        for (CompletableFuture<Void> f : all) {
            f.get(5, TimeUnit.SECONDS);
        }
    }
}
