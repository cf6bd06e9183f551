package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.KernelSignature.i32;
import static io.nemotron.core.backend.cuda.KernelSignature.ptr;
import static io.nemotron.core.backend.cuda.LaunchGeometry.BF16_PACK;
import static io.nemotron.core.backend.cuda.LaunchGeometry.F32_PACK;

import java.util.List;

/**
 * embedding.cu's gathers, one typed method each: the C arguments in order, then the row count, which only sets the
 * grid. Launch: one block per row, whole warps enough for one 16-byte pack of the row per thread, at most 1024.
 */
final class EmbeddingKernels {
    static final KernelSignature EMBEDDING_GATHER_BF16 = KernelSignature.of("embedding_gather_bf16",
            ptr("out"), ptr("table"), ptr("token_ids"), i32("hidden"), i32("vocab_start"), i32("vocab_rows"));
    static final KernelSignature EMBEDDING_GATHER_F32 = KernelSignature.of("embedding_gather_f32",
            ptr("out"), ptr("table"), ptr("token_ids"), i32("hidden"), i32("vocab_start"), i32("vocab_rows"));
    static final List<KernelSignature> SIGNATURES = List.of(EMBEDDING_GATHER_BF16, EMBEDDING_GATHER_F32);

    private final KernelLauncher launcher;

    EmbeddingKernels(CudaModule module) {
        this(module::launch);
    }

    EmbeddingKernels(KernelLauncher launcher) {
        this.launcher = launcher;
    }

    private static LaunchGeometry perRow(int rows, int hidden, int pack) {
        return LaunchGeometry.of(rows, LaunchGeometry.threadsCovering(hidden / pack));
    }

    /**
     * out[r] = table[tokenIds[r] - vocabStart] for r < rows, zeros for an id outside this rank's
     * [vocabStart, vocabStart + vocabRows); one GPU holds the whole vocabulary (vocabStart 0).
     */
    void embeddingGatherBf16(long out, long table, long tokenIds, int hidden, int vocabStart, int vocabRows, int rows) {
        launcher.launch(EMBEDDING_GATHER_BF16, perRow(rows, hidden, BF16_PACK),
                new KernelArgs().ptr(out).ptr(table).ptr(tokenIds).i32(hidden).i32(vocabStart).i32(vocabRows));
    }

    void embeddingGatherF32(long out, long table, long tokenIds, int hidden, int vocabStart, int vocabRows, int rows) {
        launcher.launch(EMBEDDING_GATHER_F32, perRow(rows, hidden, F32_PACK),
                new KernelArgs().ptr(out).ptr(table).ptr(tokenIds).i32(hidden).i32(vocabStart).i32(vocabRows));
    }
}
