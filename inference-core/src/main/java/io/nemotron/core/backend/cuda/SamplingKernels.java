package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.i32;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;

import java.util.List;

/**
 * sampling.cu's kernels, one typed method each: the C arguments in order, then the row count, which only sets the
 * grid. Launch: one block per row; 128 threads for the penalties (a row's distinct ids are few), 1024 for the
 * sampler, whose shared-memory reductions are sized for exactly that block (its kThreads).
 */
final class SamplingKernels {
    private static final int PENALTY_THREADS = 128;
    private static final int SAMPLE_THREADS = 1024;

    static final KernelSignature SAMPLE_PENALTIES_F32 = KernelSignature.of("sample_penalties_f32",
            ptr("logits"), i32("row_stride"), i32("vocab"), ptr("pen_offsets"), ptr("pen_ids"), ptr("pen_generated"),
            ptr("repetition"), ptr("presence"), ptr("frequency"));
    static final KernelSignature SAMPLE_TOKENS_F32 = KernelSignature.of("sample_tokens_f32",
            ptr("out_ids"), ptr("logits"), i32("row_stride"), i32("vocab"), ptr("temperature"), ptr("top_k"),
            ptr("top_p"), ptr("min_p"), ptr("seeds"), ptr("steps"));
    static final List<KernelSignature> SIGNATURES = List.of(SAMPLE_PENALTIES_F32, SAMPLE_TOKENS_F32);

    private final KernelLauncher launcher;

    SamplingKernels(CudaModule module) {
        this(module::launch);
    }

    SamplingKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    /** Repetition, presence and frequency penalties applied in place to each row's logits. */
    void samplePenaltiesF32(long logits, int rowStride, int vocab, long penOffsets, long penIds, long penGenerated,
                            long repetition, long presence, long frequency, int rows) {
        launcher.launch(SAMPLE_PENALTIES_F32, LaunchGeometry.of(rows, PENALTY_THREADS),
                new KernelArgs().ptr(logits).i32(rowStride).i32(vocab).ptr(penOffsets).ptr(penIds).ptr(penGenerated)
                        .ptr(repetition).ptr(presence).ptr(frequency));
    }

    /** One token per row into outIds: greedy at temperature 0, else top-k, top-p, min-p and a seeded draw. */
    void sampleTokensF32(long outIds, long logits, int rowStride, int vocab, long temperature, long topK, long topP,
                         long minP, long seeds, long steps, int rows) {
        launcher.launch(SAMPLE_TOKENS_F32, LaunchGeometry.of(rows, SAMPLE_THREADS),
                new KernelArgs().ptr(outIds).ptr(logits).i32(rowStride).i32(vocab).ptr(temperature).ptr(topK)
                        .ptr(topP).ptr(minP).ptr(seeds).ptr(steps));
    }
}
