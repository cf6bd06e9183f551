package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CpuThreadPoolTest {

    @ParameterizedTest(name = "threads={0} calls={1}")
    @CsvSource({"2, 5000", "3, 300", "4, 100"})   // more threads than this machine's cores: slow but correct
    void manyCallsCoverEachIndexExactlyOnce(int threads, int calls) {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (CpuThreadPool pool = new CpuThreadPool(threads)) {
                int[] sizes = {0, 1, 2, 3, 4, 5, 17, 1000};
                int[][] counts = new int[sizes.length][];
                for (int s = 0; s < sizes.length; s++) {
                    counts[s] = new int[sizes[s]];
                }
                for (int call = 0; call < calls; call++) {
                    for (int s = 0; s < sizes.length; s++) {
                        int[] c = counts[s];
                        int n = sizes[s];
                        pool.parallelFor(n, (from, to) -> {
                            assertTrue(0 <= from && from < to && to <= n, "chunk [" + from + ", " + to + ") of " + n);
                            for (int i = from; i < to; i++) {
                                c[i]++;
                            }
                        });
                    }
                }
                for (int s = 0; s < sizes.length; s++) {
                    for (int i = 0; i < sizes[s]; i++) {
                        assertEquals(calls, counts[s][i], "n=" + sizes[s] + " index " + i);
                    }
                }
            }
        });
    }

    @Test
    void restParksSpinningWorkersAtOnceAndTheNextCallWakesThem() {
        // a minute of spinning: without rest() the worker would stay RUNNABLE for the whole test
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (CpuThreadPool pool = new CpuThreadPool(2, 60_000_000_000L)) {
                Set<Thread> ran = ConcurrentHashMap.newKeySet();
                pool.parallelFor(2, (from, to) -> ran.add(Thread.currentThread()));
                Thread worker = ran.stream().filter(t -> t != Thread.currentThread()).findFirst().orElseThrow();
                Thread.sleep(50);
                assertEquals(Thread.State.RUNNABLE, worker.getState(), "a worker spins between calls");
                for (int round = 0; round < 3; round++) {
                    pool.rest();
                    long deadline = System.nanoTime() + 5_000_000_000L;
                    while (worker.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
                        Thread.sleep(1);
                    }
                    assertEquals(Thread.State.WAITING, worker.getState(), "round " + round + ": rest() parks the worker");
                    int[] hits = new int[64];
                    pool.parallelFor(64, (from, to) -> {
                        for (int i = from; i < to; i++) {
                            hits[i]++;
                        }
                    });
                    int[] once = new int[64];
                    Arrays.fill(once, 1);
                    assertArrayEquals(once, hits, "round " + round + ": the call after rest() covers every index once");
                }
            }
        });
    }

    @Test
    void wakesParkedWorkersEveryTime() {
        // spinNanos 0: workers park after every call, so each call goes through the park/unpark hand-shake.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (CpuThreadPool pool = new CpuThreadPool(2, 0)) {
                long[] sums = new long[1];
                for (int call = 0; call < 5_000; call++) {
                    long[] parts = new long[2];
                    pool.parallelFor(2, (from, to) -> parts[from] += 1);
                    sums[0] += parts[0] + parts[1];
                    if (call % 500 == 0) {
                        Thread.sleep(2);   // let the worker settle into park before the next call
                    }
                }
                assertEquals(10_000, sums[0]);
            }
        });
    }

    @Test
    void splitsIntoContiguousChunksOnePerThreadOnNamedDaemonThreads() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            assertEquals(2, pool.threads());
            Set<String> names = ConcurrentHashMap.newKeySet();
            Set<String> ranges = ConcurrentHashMap.newKeySet();
            Thread caller = Thread.currentThread();
            pool.parallelFor(10, (from, to) -> {
                ranges.add(from + "-" + to);
                Thread t = Thread.currentThread();
                if (t != caller) {
                    assertTrue(t.isDaemon());
                    names.add(t.getName());
                }
            });
            assertEquals(Set.of("0-5", "5-10"), ranges);
            assertEquals(Set.of("nemotron-cpu-1"), names);
        }
    }

    @Test
    void rethrowsAWorkersFailureAfterAllChunksFinish() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.parallelFor(2, (from, to) -> {
                if (from == 1) {
                    throw boom;
                }
            }));
            assertSame(boom, thrown);
            int[] after = new int[4];
            pool.parallelFor(4, (from, to) -> {
                for (int i = from; i < to; i++) {
                    after[i]++;
                }
            });
            assertEquals("[1, 1, 1, 1]", Arrays.toString(after), "the pool stays usable after a failure");
        }
    }

    @Test
    void nestedCallFailsInsteadOfDeadlocking() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            assertThrows(IllegalStateException.class, () -> pool.parallelFor(2, (from, to) -> pool.parallelFor(2, (a, b) -> {})));
        }
    }

    @Test
    void singleThreadPoolRunsInlineAndCloseIsIdempotent() {
        CpuThreadPool pool = new CpuThreadPool(1);
        int[] seen = new int[1];
        pool.parallelFor(7, (from, to) -> seen[0] += to - from);
        assertEquals(7, seen[0]);
        pool.close();
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.parallelFor(1, (from, to) -> {}));
        assertThrows(IllegalArgumentException.class, () -> new CpuThreadPool(0));
    }
}
