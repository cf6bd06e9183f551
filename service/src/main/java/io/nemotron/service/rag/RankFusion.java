package io.nemotron.service.rag;

import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Convex combination of normalized scores (Bruch et al. 2023, "An Analysis of Fusion Functions for Hybrid
 * Retrieval"): {@code w * max(0, cosine) + (1 - w) * bm25 / max(bm25)}, cosine's theoretical range and BM25's
 * observed maximum as the normalizers. Without a dense ranking the fused score is the BM25 term alone. Ties go to
 * the client's score (higher first, none last), then to request position, so the order is deterministic.
 *
 * <p>Why a weighted sum and not reciprocal-rank fusion: a request holds a handful of passages, so BM25's IDF comes
 * from a tiny corpus and its ranks are noisy; rank fusion gives that noise the same say as the dense ranking,
 * while a score sum keeps how far apart the passages really are.
 */
final class RankFusion {

    private final double denseWeight;

    RankFusion(double denseWeight) {
        this.denseWeight = denseWeight;
    }

    /**
     * Passage indices, best first.
     *
     * @param bm25     BM25 score per passage, 0 for no match
     * @param dense    cosine per passage (NaN where not scored, counted as 0), or null without a dense ranking
     * @param client   the client's score per passage, null entries where absent
     * @param position request order of each passage (document position, then chunk index)
     */
    int[] rank(double[] bm25, double[] dense, Double[] client, int[] position) {
        int n = bm25.length;
        double max = 0;
        for (double s : bm25) {
            max = Math.max(max, s);
        }
        double lexicalWeight = dense == null ? 1 : 1 - denseWeight;
        double[] fused = new double[n];
        for (int i = 0; i < n; i++) {
            fused[i] = max > 0 ? lexicalWeight * bm25[i] / max : 0;
            if (dense != null && !Double.isNaN(dense[i])) {
                fused[i] += denseWeight * Math.max(0, dense[i]);
            }
        }
        Comparator<Integer> order = Comparator.<Integer>comparingDouble(i -> -fused[i])
                .thenComparingDouble(i -> client[i] == null || client[i].isNaN() ? Double.POSITIVE_INFINITY : -client[i])
                .thenComparingInt(i -> position[i]);
        return IntStream.range(0, n).boxed().sorted(order).mapToInt(Integer::intValue).toArray();
    }
}
