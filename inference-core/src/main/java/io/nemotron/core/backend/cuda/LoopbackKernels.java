package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.i32;
import static io.nemotron.core.backend.cuda.KernelSignature.i64;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;

import java.util.List;

/**
 * loopback.cu's collectives (several ranks on one GPU), one typed method each, for the loopback communicator in
 * io.nemotron.core.parallel.cuda. It lives here, with the other launchers, so that {@link CudaModule}'s untyped
 * launch path stays package-private. Launch: 256 threads a block, one element (or 16-bit unit) per thread; the gather
 * adds a grid plane per (source rank, destination rank).
 */
public final class LoopbackKernels {
    private static final int THREADS = 256;

    static final KernelSignature ALL_REDUCE_F32 = KernelSignature.of("loopback_all_reduce_f32",
            ptr("bufs"), i32("ranks"), i64("n"));
    static final KernelSignature ALL_REDUCE_BF16 = KernelSignature.of("loopback_all_reduce_bf16",
            ptr("bufs"), i32("ranks"), i64("n"));
    static final KernelSignature ALL_GATHER_U16 = KernelSignature.of("loopback_all_gather_u16",
            ptr("sends"), ptr("recvs"), i32("ranks"), i64("n16"));
    static final List<KernelSignature> SIGNATURES = List.of(ALL_REDUCE_F32, ALL_REDUCE_BF16, ALL_GATHER_U16);

    private final KernelLauncher launcher;

    public LoopbackKernels(CudaModule module) {
        this(module::launch);
    }

    LoopbackKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    private static int blocks(long n) {
        long b = Math.ceilDiv(n, THREADS);
        if (b > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("loopback collective of " + n + " elements exceeds one launch");
        }
        return (int) b;
    }

    /** Every rank's bufs[r][i] = the FP32 sum over ranks of bufs[r][i], for i < n; {@code bufs} is a device table. */
    public void loopbackAllReduceF32(long bufs, int ranks, long n) {
        launcher.launch(ALL_REDUCE_F32, LaunchGeometry.of(blocks(n), THREADS), new KernelArgs().ptr(bufs).i32(ranks).i64(n));
    }

    public void loopbackAllReduceBf16(long bufs, int ranks, long n) {
        launcher.launch(ALL_REDUCE_BF16, LaunchGeometry.of(blocks(n), THREADS), new KernelArgs().ptr(bufs).i32(ranks).i64(n));
    }

    /** recvs[q][r * n16 + i] = sends[r][i] for every rank pair; {@code sends} and {@code recvs} are device tables. */
    public void loopbackAllGatherU16(long sends, long recvs, int ranks, long n16) {
        launcher.launch(ALL_GATHER_U16, new LaunchGeometry(blocks(n16), ranks, ranks, THREADS),
                new KernelArgs().ptr(sends).ptr(recvs).i32(ranks).i64(n16));
    }
}
