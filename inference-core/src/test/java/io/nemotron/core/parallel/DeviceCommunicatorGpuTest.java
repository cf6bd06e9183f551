package io.nemotron.core.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nemotron.core.backend.CommunicatorException;
import io.nemotron.core.backend.DeviceCommunicator;
import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.backend.cuda.CudaModule;
import io.nemotron.core.parallel.cuda.JCudaHandles;
import io.nemotron.core.parallel.cuda.LoopbackGroup;
import io.nemotron.core.parallel.nccl.Nccl;
import io.nemotron.core.parallel.nccl.NcclGroup;
import io.nemotron.core.parallel.nccl.NcclUnavailableException;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.weights.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Device communicators on a real GPU: the loopback group (2 and 4 ranks on GPU 0, each rank a thread with its own
 * buffers) against hand-worked sums, and NCCL with one rank (identity all-reduce, all-gather, both ways of making the
 * communicator, abort). Skipped, with the reason, without libcuda; the NCCL tests also without libnccl.so.2
 * (scripts/gpu-run.sh points NEMOTRON_SITE_PACKAGES at Python's site-packages, where pip puts NCCL).
 */
@Tag("gpu")
@Timeout(120)
class DeviceCommunicatorGpuTest {
    private static CudaDevice device;
    private static CudaModule kernels;
    private static final List<CUdeviceptr> allocations = new ArrayList<>();

    @BeforeAll
    static void open() {
        CudaAvailability.assumeDevice();
        device = CudaDevice.open(0);
        kernels = device.loadKernels();
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.makeCurrent();
            allocations.forEach(JCudaDriver::cuMemFree);
        }
        if (kernels != null) {
            kernels.close();
        }
        if (device != null) {
            device.close();
        }
    }

    // --- device memory by raw address, as the communicators take it ---

    private static long upload(float[] x) {
        CUdeviceptr p = new CUdeviceptr();
        ok(JCudaDriver.cuMemAlloc(p, (long) x.length * Sizeof.FLOAT), "cuMemAlloc");
        allocations.add(p);
        ok(JCudaDriver.cuMemcpyHtoD(p, Pointer.to(x), (long) x.length * Sizeof.FLOAT), "cuMemcpyHtoD");
        return JCudaHandles.address(p);
    }

    private static long upload(short[] x) {
        CUdeviceptr p = new CUdeviceptr();
        ok(JCudaDriver.cuMemAlloc(p, (long) x.length * Sizeof.SHORT), "cuMemAlloc");
        allocations.add(p);
        ok(JCudaDriver.cuMemcpyHtoD(p, Pointer.to(x), (long) x.length * Sizeof.SHORT), "cuMemcpyHtoD");
        return JCudaHandles.address(p);
    }

    private static float[] floats(long address, int n) {
        float[] out = new float[n];
        ok(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), JCudaHandles.deviceptr(address), (long) n * Sizeof.FLOAT), "cuMemcpyDtoH");
        return out;
    }

    private static short[] shorts(long address, int n) {
        short[] out = new short[n];
        ok(JCudaDriver.cuMemcpyDtoH(Pointer.to(out), JCudaHandles.deviceptr(address), (long) n * Sizeof.SHORT), "cuMemcpyDtoH");
        return out;
    }

    private static void ok(int result, String call) {
        assertEquals(0, result, () -> call + " failed: " + jcuda.driver.CUresult.stringFor(result));
    }

    /** BF16 bits of a float that BF16 holds exactly (every value below is chosen so). */
    private static short bf16(float exact) {
        int bits = Float.floatToRawIntBits(exact);
        if ((bits & 0xffff) != 0) {
            throw new IllegalArgumentException(exact + " is not a BF16 value");
        }
        return (short) (bits >>> 16);
    }

    /** Runs body(rank) on one thread per rank, each with the GPU's context current; each rank's outcome. */
    private static List<Throwable> onRanks(int size, IntConsumer body) throws Exception {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int r = 0; r < size; r++) {
            int rank = r;
            all.add(CompletableFuture.runAsync(() -> {
                device.makeCurrent();
                body.accept(rank);
            }, task -> Thread.ofPlatform().start(task)));
        }
        List<Throwable> outcomes = new ArrayList<>();
        for (CompletableFuture<Void> f : all) {
            try {
                f.get(60, TimeUnit.SECONDS);
                outcomes.add(null);
            } catch (ExecutionException e) {
                outcomes.add(e.getCause());
            }
        }
        return outcomes;
    }

    private static void assertAllSucceeded(List<Throwable> outcomes) {
        for (int r = 0; r < outcomes.size(); r++) {
            if (outcomes.get(r) != null) {
                throw new AssertionError("rank " + r + " failed", outcomes.get(r));
            }
        }
    }

    // --- loopback ---

    /** Rank r's element i (i >= 1): (r + 1) * (i - 500) / 4, so the sum over ranks is (i - 500) / 4 * size(size+1)/2. */
    private static float value(int rank, int i) {
        return (rank + 1) * (i - 500) * 0.25f;
    }

    @Test
    void loopbackTwoAndFourRanksSumF32InRankOrder() throws Exception {
        int n = 1000;   // four blocks of 256, the last partly used
        float[] first = {1e8f, 1f, -1e8f, 0f};   // element 0 of ranks 0..3
        for (int size : new int[] {2, 4}) {
            long[] bufs = new long[size];
            device.makeCurrent();
            for (int r = 0; r < size; r++) {
                float[] x = new float[n];
                x[0] = first[r];
                for (int i = 1; i < n; i++) {
                    x[i] = value(r, i);
                }
                bufs[r] = upload(x);
            }
            try (LoopbackGroup group = LoopbackGroup.onGpu(device, kernels, size)) {
                assertAllSucceeded(onRanks(size, r -> group.member(r).allReduceSum(bufs[r], n, DType.F32, 0)));
            }
            device.makeCurrent();
            // element 0: 2 ranks 1e8 + 1 = 1e8 in float; 4 ranks ((1e8 + 1) - 1e8) + 0 = 0, only in rank order
            float expected0 = size == 2 ? 1e8f : 0f;
            int triangle = size * (size + 1) / 2;
            for (int r = 0; r < size; r++) {
                float[] got = floats(bufs[r], n);
                assertEquals(expected0, got[0], "rank " + r + " element 0");
                for (int i = 1; i < n; i++) {
                    assertEquals((i - 500) * 0.25f * triangle, got[i], "rank " + r + " element " + i);
                }
            }
        }
    }

    @Test
    void loopbackFourRanksSumBf16InFp32AndRoundOnce() throws Exception {
        // element 0: 256 + 0.5 + 0.5 + 0.5 = 257.5 in FP32 -> 258 in BF16 (spacing 2 above 256; 257.5 is nearer 258).
        //            Rounding after each add would give 256 + 0.5 -> 256 (tie to even) three times: 256.
        // element 1: 1.5 + 2.25 - 0.75 + 1 = 4 exactly.
        float[][] x = {{256f, 1.5f}, {0.5f, 2.25f}, {0.5f, -0.75f}, {0.5f, 1f}};
        long[] bufs = new long[4];
        device.makeCurrent();
        for (int r = 0; r < 4; r++) {
            bufs[r] = upload(new short[] {bf16(x[r][0]), bf16(x[r][1])});
        }
        try (LoopbackGroup group = LoopbackGroup.onGpu(device, kernels, 4)) {
            assertAllSucceeded(onRanks(4, r -> group.member(r).allReduceSum(bufs[r], 2, DType.BF16, 0)));
        }
        device.makeCurrent();
        for (int r = 0; r < 4; r++) {
            assertArrayEquals(new short[] {bf16(258f), bf16(4f)}, shorts(bufs[r], 2), "rank " + r);
        }
    }

    @Test
    void loopbackAllGatherTwoRanksF32AndFourRanksBf16InPlace() throws Exception {
        device.makeCurrent();
        long[] sends = {upload(new float[] {1f, 2f, 3f}), upload(new float[] {4f, 5f, 6f})};
        long[] recvs = {upload(new float[6]), upload(new float[6])};
        try (LoopbackGroup group = LoopbackGroup.onGpu(device, kernels, 2)) {
            assertAllSucceeded(onRanks(2, r -> group.member(r).allGather(sends[r], recvs[r], 3, DType.F32, 0)));
        }
        device.makeCurrent();
        for (int r = 0; r < 2; r++) {
            assertArrayEquals(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, floats(recvs[r], 6), "rank " + r);
        }

        // 4 ranks, 3 BF16 each (an odd number of 16-bit units), in place: rank r's data already sits in slot r
        short[] expected = new short[12];
        for (int i = 0; i < 12; i++) {
            expected[i] = bf16(i + 1);
        }
        long[] bufs = new long[4];
        for (int r = 0; r < 4; r++) {
            short[] b = new short[12];
            System.arraycopy(expected, 3 * r, b, 3 * r, 3);
            bufs[r] = upload(b);
        }
        try (LoopbackGroup group = LoopbackGroup.onGpu(device, kernels, 4)) {
            assertAllSucceeded(onRanks(4, r -> group.member(r).allGather(bufs[r] + 3L * 2 * r, bufs[r], 3, DType.BF16, 0)));
        }
        device.makeCurrent();
        for (int r = 0; r < 4; r++) {
            assertArrayEquals(expected, shorts(bufs[r], 12), "rank " + r);
        }
    }

    @Test
    void loopbackAbortReleasesTheOtherRanksAndTheNextStepSums() throws Exception {
        device.makeCurrent();
        long[] bufs = {upload(new float[] {1f}), upload(new float[] {2f}), upload(new float[] {4f}), upload(new float[] {8f})};
        try (LoopbackGroup group = LoopbackGroup.onGpu(device, kernels, 4)) {
            List<CompletableFuture<Void>> waiting = new ArrayList<>();
            for (int r = 1; r < 4; r++) {
                int rank = r;
                waiting.add(CompletableFuture.runAsync(() -> {
                    device.makeCurrent();
                    group.member(rank).allReduceSum(bufs[rank], 1, DType.F32, 0);
                }, task -> Thread.ofPlatform().start(task)));
            }
            // rank 0 "failed" before its all-reduce; the others wait at the barrier
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (group.waitingRanks() < 3 && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            assertEquals(3, group.waitingRanks());
            group.abort();
            for (CompletableFuture<Void> f : waiting) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
                assertInstanceOf(CommunicatorException.class, e.getCause());
            }
            device.makeCurrent();
            assertArrayEquals(new float[] {2f}, floats(bufs[1], 1), "the aborted step changed nothing");
            group.reset();
            assertAllSucceeded(onRanks(4, r -> group.member(r).allReduceSum(bufs[r], 1, DType.F32, 0)));
        }
        device.makeCurrent();
        for (long b : bufs) {
            assertArrayEquals(new float[] {15f}, floats(b, 1));
        }
    }

    // --- NCCL, one rank ---

    private static Nccl ncclOrSkip() {
        try {
            return Nccl.load();
        } catch (NcclUnavailableException e) {
            assumeTrue(false, e.getMessage());
            throw e;
        }
    }

    @Test
    void ncclOneRankAllReduceIsTheIdentityAndAllGatherCopies() {
        Nccl nccl = ncclOrSkip();
        assertTrue(nccl.version() >= 21000, "NCCL " + nccl.version() + " from " + nccl.source() + " predates bfloat16");
        device.makeCurrent();
        float[] x = {1.5f, -2f, 1e8f, 0.25f};
        short[] h = {bf16(1.5f), bf16(-2f), bf16(256f)};
        long fx = upload(x);
        long bx = upload(h);
        long recv = upload(new float[4]);
        try (NcclGroup group = NcclGroup.initAll(nccl, new int[] {0})) {
            device.makeCurrent();   // ncclCommInitAll may switch the thread's device
            DeviceCommunicator c = group.member(0);
            c.allReduceSum(fx, 4, DType.F32, 0);
            c.allReduceSum(bx, 3, DType.BF16, 0);
            c.allGather(fx, recv, 4, DType.F32, 0);
            device.synchronize("NCCL one-rank collectives");
            group.checkAsyncErrors();
        }
        assertArrayEquals(x, floats(fx, 4));
        assertArrayEquals(h, shorts(bx, 3));
        assertArrayEquals(x, floats(recv, 4));
    }

    @Test
    void ncclOneRankJoinedByUniqueIdThenAborted() {
        Nccl nccl = ncclOrSkip();
        device.makeCurrent();
        long buf = upload(new float[] {3f, 4f});
        NcclGroup group = NcclGroup.create(nccl, 1);   // ncclGetUniqueId
        DeviceCommunicator c = group.join(0);           // ncclCommInitRank with the 128-byte id by value
        c.allReduceSum(buf, 2, DType.F32, 0);
        device.synchronize("NCCL one-rank all-reduce");
        assertArrayEquals(new float[] {3f, 4f}, floats(buf, 2));
        group.abort();                                  // ncclCommAbort
        CommunicatorException e = assertThrows(CommunicatorException.class, () -> c.allReduceSum(buf, 2, DType.F32, 0));
        assertTrue(e.getMessage().contains("aborted"), e.getMessage());
        group.close();
    }
}
