package io.nemotron.core.parallel.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.CommunicatorException;
import io.nemotron.core.backend.DeviceCommunicator;
import io.nemotron.core.weights.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;

/**
 * The loopback group's rank logic (barrier, agreement checks, failure on every rank, abort, reuse) on host memory:
 * the device kernels are replaced by a fake over float arrays, so this needs no GPU. The kernels themselves are
 * checked on a GPU by DeviceCommunicatorGpuTest.
 */
class LoopbackGroupTest {

    /** "Device memory": array i lives at address (i + 1) << 20; an address inside it is base + 4 * index. */
    static final class HostKernels implements LoopbackGroup.Kernels {
        final List<float[]> arrays = new ArrayList<>();
        final List<String> log = new ArrayList<>();
        RuntimeException failNext;
        Error errorNext;   // a bug rather than a CUDA error: the barrier must still release every rank

        long add(float... values) {
            arrays.add(values);
            return (long) arrays.size() << 20;
        }

        float[] at(long address) {
            return arrays.get((int) (address >> 20) - 1);
        }

        int index(long address) {
            return (int) ((address & ((1 << 20) - 1)) / 4);
        }

        @Override
        public synchronized void synchronize(String after) {
            log.add("sync: " + after);
        }

        @Override
        public void allReduceSum(long[] bufs, long count, DType dtype) {
            if (failNext != null) {
                throw failNext;
            }
            if (errorNext != null) {
                throw errorNext;
            }
            for (int i = 0; i < count; i++) {
                float s = at(bufs[0])[index(bufs[0]) + i];
                for (int r = 1; r < bufs.length; r++) {
                    s += at(bufs[r])[index(bufs[r]) + i];
                }
                for (long b : bufs) {
                    at(b)[index(b) + i] = s;
                }
            }
        }

        @Override
        public void allGather(long[] sends, long[] recvs, long count, DType dtype) {
            for (int q = 0; q < recvs.length; q++) {
                for (int r = 0; r < sends.length; r++) {
                    System.arraycopy(at(sends[r]), index(sends[r]), at(recvs[q]), index(recvs[q]) + r * (int) count,
                            (int) count);
                }
            }
        }

        @Override
        public void close() {}
    }

    /** Runs {@code body(rank)} on one thread per rank; returns each rank's outcome (null or its exception). */
    /** Until {@code n} ranks wait at the barrier (up to 30 s), then asserts they do. */
    static void awaitWaitingRanks(LoopbackGroup group, int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (group.waitingRanks() < n && System.nanoTime() < until) {
            Thread.sleep(1);
        }
        assertEquals(n, group.waitingRanks());
    }

    private static List<Throwable> onRanks(int size, IntConsumer body) throws Exception {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            int rank = r;
            all.add(CompletableFuture.runAsync(() -> body.accept(rank), task -> Thread.ofPlatform().start(task)));
        }
        List<Throwable> outcomes = new ArrayList<>();
        for (CompletableFuture<Void> f : all) {
            try {
                f.get(5, TimeUnit.SECONDS);
                outcomes.add(null);
            } catch (ExecutionException e) {
                outcomes.add(e.getCause());
            }
        }
        return outcomes;
    }

    @Test
    void fourRanksSumInRankOrder() throws Exception {
        HostKernels k = new HostKernels();
        long[] bufs = {k.add(1f, 1e8f, 0f), k.add(2f, 1f, 0.5f), k.add(3f, -1e8f, 0.25f), k.add(4f, 0f, 0.125f)};
        try (LoopbackGroup group = new LoopbackGroup(4, k)) {
            List<Throwable> outcomes = onRanks(4, r -> group.member(r).allReduceSum(bufs[r], 3, DType.F32, 0));
            assertEquals(List.of(), outcomes.stream().filter(t -> t != null).toList());
        }
        // (1e8 + 1) - 1e8 in rank order is 0 in float, on every rank
        for (long b : bufs) {
            assertArrayEquals(new float[] {10f, 0f, 0.875f}, k.at(b));
        }
        // every rank synchronised the context before publishing its buffer
        assertEquals(4, k.log.size());
    }

    @Test
    void twoRanksGatherIntoEveryRankIncludingInPlace() throws Exception {
        HostKernels k = new HostKernels();
        long send0 = k.add(1f, 2f);
        long send1 = k.add(3f, 4f);
        long recv0 = k.add(new float[4]);
        long recv1 = k.add(0f, 0f, 3f, 4f);   // rank 1 gathers in place: its send is recv1 + 1 * count
        long[] sends = {send0, recv1 + 2 * 4};
        long[] recvs = {recv0, recv1};
        try (LoopbackGroup group = new LoopbackGroup(2, k)) {
            onRanks(2, r -> group.member(r).allGather(sends[r], recvs[r], 2, DType.F32, 0));
        }
        assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, k.at(recv0));
        assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, k.at(recv1));
        assertArrayEquals(new float[] {3f, 4f}, k.at(send1), "an unused buffer is untouched");
    }

    @Test
    void ranksThatDisagreeFailTogetherAndTheGroupWorksAfterwards() throws Exception {
        HostKernels k = new HostKernels();
        long a = k.add(1f, 2f);
        long b = k.add(3f, 4f);
        try (LoopbackGroup group = new LoopbackGroup(2, k)) {
            List<Throwable> outcomes = onRanks(2, r -> group.member(r).allReduceSum(r == 0 ? a : b, r == 0 ? 2 : 1,
                    DType.F32, 0));
            for (int r = 0; r < 2; r++) {
                CommunicatorException e = assertInstanceOf(CommunicatorException.class, outcomes.get(r));
                assertEquals("rank " + r + ": loopback allReduceSum(" + (r == 0 ? 2 : 1) + " x F32) failed: ranks disagree:"
                        + " rank 0 called allReduceSum(2 x F32), rank 1 called allReduceSum(1 x F32)", e.getMessage());
            }
            assertArrayEquals(new float[] {1f, 2f}, k.at(a), "nothing ran");
            onRanks(2, r -> group.member(r).allReduceSum(r == 0 ? a : b, 2, DType.F32, 0));
            assertArrayEquals(new float[] {4f, 6f}, k.at(a));
            assertArrayEquals(new float[] {4f, 6f}, k.at(b));
        }
    }

    @Test
    void aFailingKernelFailsTheCollectiveOnEveryRankWithTheCause() throws Exception {
        HostKernels k = new HostKernels();
        long a = k.add(1f);
        long b = k.add(2f);
        k.failNext = new IllegalStateException("cuLaunchKernel(loopback_all_reduce_f32) failed: CUDA_ERROR_LAUNCH_FAILED (719)");
        try (LoopbackGroup group = new LoopbackGroup(2, k)) {
            List<Throwable> outcomes = onRanks(2, r -> group.member(r).allReduceSum(r == 0 ? a : b, 1, DType.F32, 0));
            for (Throwable t : outcomes) {
                CommunicatorException e = assertInstanceOf(CommunicatorException.class, t);
                assertEquals(k.failNext, e.getCause());
            }
            // an Error in the kernel as well: no rank returns as if its buffer had been reduced
            k.failNext = null;
            k.errorNext = new AssertionError("kernel bug");
            outcomes = onRanks(2, r -> group.member(r).allReduceSum(r == 0 ? a : b, 1, DType.F32, 0));
            for (Throwable t : outcomes) {
                assertEquals(k.errorNext, assertInstanceOf(CommunicatorException.class, t).getCause());
            }
        }
    }

    @Test
    void abortReleasesRanksWaitingForAFailedRankAndTheNextStepWorks() throws Exception {
        HostKernels k = new HostKernels();
        long[] bufs = {k.add(1f), k.add(2f), k.add(4f)};
        try (LoopbackGroup group = new LoopbackGroup(3, k)) {
            List<CompletableFuture<Void>> waiting = new ArrayList<>();
            for (int r = 1; r < 3; r++) {
                DeviceCommunicator c = group.member(r);
                long buf = bufs[r];
                waiting.add(CompletableFuture.runAsync(() -> c.allReduceSum(buf, 1, DType.F32, 0),
                        task -> Thread.ofPlatform().start(task)));
            }
            awaitWaitingRanks(group, 2);   // ranks 1 and 2 wait for rank 0, which failed before its all-reduce
            group.abort();
            for (CompletableFuture<Void> f : waiting) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
                assertInstanceOf(CommunicatorException.class, e.getCause());
                assertEquals("another rank failed during the step",
                        e.getCause().getMessage().substring(e.getCause().getMessage().indexOf(": ") + 2));
            }
            assertArrayEquals(new float[] {2f}, k.at(bufs[1]), "an aborted all-reduce leaves the buffers alone");
            // a rank that was still computing reaches its next collective of the step after the abort: it fails at
            // once instead of waiting forever for ranks that have given up
            CommunicatorException late = assertThrows(CommunicatorException.class,
                    () -> group.member(1).allReduceSum(bufs[1], 1, DType.F32, 0));
            assertTrue(late.getMessage().contains("another rank failed during the step"), late.getMessage());
            group.reset();
            onRanks(3, r -> group.member(r).allReduceSum(bufs[r], 1, DType.F32, 0));
            for (long b : bufs) {
                assertArrayEquals(new float[] {7f}, k.at(b));
            }
        }
    }

    @Test
    void oneRankIsTheIdentityAndUnsupportedTypesAreRefused() {
        HostKernels k = new HostKernels();
        long a = k.add(5f);
        try (LoopbackGroup group = new LoopbackGroup(1, k)) {
            group.member(0).allReduceSum(a, 1, DType.F32, 0);
            assertArrayEquals(new float[] {5f}, k.at(a));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> group.member(0).allReduceSum(a, 1, DType.F16, 0));
            assertEquals("rank 0: the loopback communicator handles F32 and BF16, not F16", e.getMessage());
        }
    }
}
