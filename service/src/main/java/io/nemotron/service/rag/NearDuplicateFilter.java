package io.nemotron.service.rag;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
        Map<String, Integer> exact = new HashMap<>();
        List<long[]> kept = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            String normalized = normalize(chunks.get(i).text());
            if (exact.putIfAbsent(normalized, i) != null) {
                continue;
            }
            long[] shingles = shingles(normalized);
            boolean duplicate = false;
            for (long[] other : kept) {
                if (jaccardAtLeast(shingles, other)) {
                    duplicate = true;
                    break;
                }
            }
            if (!duplicate) {
                keep[i] = true;
                kept.add(shingles);
            }
        }
        return keep;
    }

    private boolean jaccardAtLeast(long[] a, long[] b) {
        int small = Math.min(a.length, b.length);
        int large = Math.max(a.length, b.length);
        if (large == 0 || small < threshold * large) { // |A ∩ B| / |A ∪ B| <= small / large
            return large == 0;
        }
        int i = 0;
        int j = 0;
        int common = 0;
        while (i < a.length && j < b.length) {
            if (a[i] == b[j]) {
                common++;
                i++;
                j++;
            } else if (a[i] < b[j]) {
                i++;
            } else {
                j++;
            }
        }
        return common >= threshold * (a.length + b.length - common);
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
