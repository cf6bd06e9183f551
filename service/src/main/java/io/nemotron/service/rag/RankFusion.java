package io.nemotron.service.rag;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Reciprocal-rank fusion (Cormack et al. 2009): each ranking adds 1 / (k + rank) to a passage, rank from 1.
 * BM25 ranks only passages that match a question term; the dense ranking, when present, ranks the passages it
 * scored (NaN: not embedded). Ties of the fused score go to the client's score (higher first, none last), then
 * to request position, so the result is deterministic.
 */
final class RankFusion {

    private final int k;

    RankFusion(int k) {
        this.k = k;
    }

    /**
     * Passage indices, best first.
     *
     * @param bm25     BM25 score per passage, 0 for no match
     * @param dense    cosine per passage (NaN where not scored), or null when there is no dense ranking
     * @param client   the client's score per passage, null entries where absent
     * @param position request order of each passage (document position, then chunk index)
     */
    int[] rank(double[] bm25, double[] dense, Double[] client, int[] position) {
        int n = bm25.length;
        double[] fused = new double[n];
        addRanks(fused, bm25, i -> bm25[i] > 0, position);
        if (dense != null) {
            addRanks(fused, dense, i -> !Double.isNaN(dense[i]), position);
        }
        Comparator<Integer> order = Comparator.<Integer>comparingDouble(i -> -fused[i])
                .thenComparingDouble(i -> client[i] == null ? Double.POSITIVE_INFINITY : -client[i])
                .thenComparingInt(i -> position[i]);
        return IntStream.range(0, n).boxed().sorted(order).mapToInt(Integer::intValue).toArray();
    }

    private void addRanks(double[] fused, double[] scores, java.util.function.IntPredicate ranked, int[] position) {
        Integer[] idx = IntStream.range(0, scores.length).filter(ranked).boxed().toArray(Integer[]::new);
        Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparingInt(i -> position[i]));
        for (int r = 0; r < idx.length; r++) {
            fused[idx[r]] += 1.0 / (k + r + 1);
        }
    }
}
