package io.nemotron.service.rag;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Marks chunks that repeat an earlier chunk: NFKC, lower case, letters and digits only, then word 3-shingles;
 * a chunk whose shingle set has Jaccard similarity at or above the threshold with an earlier kept chunk is a
 * duplicate. Earlier means request position, so the first copy wins and the result does not depend on ranking.
 */
final class NearDuplicateFilter {

    private final double threshold;

    NearDuplicateFilter(double threshold) {
        this.threshold = threshold;
    }

    /** {@code keep[i]} is false when chunks.get(i) duplicates an earlier chunk; chunks are in request order. */
    boolean[] keep(List<Chunk> chunks) {
        boolean[] keep = new boolean[chunks.size()];
        Set<String> exact = new HashSet<>();
        // NOTE: an inverted index from shingle to kept chunks: only chunks sharing a shingle are compared, so
        // thousands of chunks of unrelated text cost about their shingle count, not a comparison per pair.
        Map<Long, List<Integer>> postings = new HashMap<>();
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            String normalized = normalize(chunks.get(i).text());
            if (!exact.add(normalized)) {
                continue;
            }
            long[] shingles = shingles(normalized);
            Map<Integer, Integer> common = new HashMap<>();
            for (long s : shingles) {
                for (int k : postings.getOrDefault(s, List.of())) {
                    common.merge(k, 1, Integer::sum);
                }
            }
            boolean duplicate = false;
            for (Map.Entry<Integer, Integer> e : common.entrySet()) {
                int both = e.getValue();
                if (both >= threshold * (shingles.length + sizes.get(e.getKey()) - both)) {
                    duplicate = true;
                    break;
                }
            }
            if (!duplicate) {
                keep[i] = true;
                int id = sizes.size();
                sizes.add(shingles.length);
                for (long s : shingles) {
                    postings.computeIfAbsent(s, x -> new ArrayList<>(2)).add(id);
                }
            }
        }
        return keep;
    }

    static String normalize(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        return s.replaceAll("[^\\p{L}\\p{N}]+", " ").strip();
    }

    /** Sorted distinct hashes of the word 3-shingles (of the single word run when shorter). */
    static long[] shingles(String normalized) {
        if (normalized.isEmpty()) {
            return new long[0];
        }
        String[] words = normalized.split(" ");
        int k = Math.min(3, words.length);
        long[] out = new long[words.length - k + 1];
        for (int i = 0; i + k <= words.length; i++) {
            long h = 1125899906842597L;
            for (int w = i; w < i + k; w++) {
                h = 31 * h + words[w].hashCode();
                h ^= h >>> 29;
                h *= 0xBF58476D1CE4E5B9L;
            }
            out[i] = h;
        }
        return Arrays.stream(out).sorted().distinct().toArray();
    }
}
