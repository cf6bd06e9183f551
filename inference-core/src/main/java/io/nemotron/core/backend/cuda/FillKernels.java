package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.f32;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;
import static io.nemotron.core.backend.cuda.KernelSignature.u32;
import static io.nemotron.core.backend.cuda.KernelSignature.u64;

import java.util.List;

/**
 * fill.cu's random fill. Launch: a fixed grid of 8192 blocks of 256 threads, since the kernel's grid-stride loop
 * takes any grid and its values depend only on (seed, stream, i): enough CTAs to fill every SM several times over.
 */
final class FillKernels {
    private static final int THREADS = 256;
    private static final int GRID = 8192;

    static final KernelSignature FILL_UNIFORM_BF16 = KernelSignature.of("fill_uniform_bf16",
            ptr("out"), u64("n"), u64("seed"), u32("stream"), f32("lo"), f32("hi"));
    static final List<KernelSignature> SIGNATURES = List.of(FILL_UNIFORM_BF16);

    private final KernelLauncher launcher;

    FillKernels(CudaModule module) {
        this(module::launch);
    }

    FillKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    /** out[i] = a BF16 uniform in [lo, hi) for i < n, a function of (seed, stream, i) alone; lo == hi writes lo. */
    void fillUniformBf16(long out, long n, long seed, int stream, float lo, float hi) {
        launcher.launch(FILL_UNIFORM_BF16, LaunchGeometry.of(GRID, THREADS),
                new KernelArgs().ptr(out).u64(n).u64(seed).u32(stream).f32(lo).f32(hi));
    }
}
