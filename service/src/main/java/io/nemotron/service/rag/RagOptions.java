package io.nemotron.service.rag;

/**
 * Tunables of the assembler.
 *
 * @param chunkTokens     target chunk length in tokens
 * @param overlapTokens   tokens a chunk repeats from the end of the previous one (0 to chunkTokens / 2)
 * @param duplicateJaccard word-3-shingle Jaccard similarity at or above which a chunk is a near duplicate
 * @param maxDenseChunks  at most this many chunks (the best by BM25, then by position) are embedded per request,
 *                        which bounds the CPU time of the dense ranker on huge documents
 * @param rrfK            the k of reciprocal-rank fusion (60 in the original paper)
 */
public record RagOptions(int chunkTokens, int overlapTokens, double duplicateJaccard, int maxDenseChunks, int rrfK) {

    public static final RagOptions DEFAULTS = new RagOptions(200, 40, 0.9, 128, 60);

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
        if (rrfK < 1) {
            throw new IllegalArgumentException("rrfK must be >= 1, got " + rrfK);
        }
    }
}
