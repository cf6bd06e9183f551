package io.nemotron.core.demo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Learns byte-level BPE merges from a text, the classic way: split into words, count, and repeatedly merge the
 * most frequent adjacent pair. Ties go to the lexicographically smallest pair, so the result depends on the text
 * alone (no hash order), and the demo tokenizer is byte-identical on every machine.
 */
final class BpeTrainer {
    /**
     * Words as the {@code ByteLevel} pre-tokenizer (GPT-2 regex) splits them: a contraction, a letter run, a digit
     * run or a punctuation run, each with its leading space; whitespace runs. Merges never cross these boundaries,
     * so learning on the same split makes every learned merge reachable at encode time.
     */
    private static final Pattern WORD =
            Pattern.compile("'(?:s|t|re|ve|m|ll|d)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    /** The learned vocabulary (256 byte tokens first, then merge results in order) and the merges in rank order. */
    record Result(Map<String, Integer> vocab, List<String> merges) {}

    private BpeTrainer() {}

    /**
     * Learns merges until the vocabulary holds {@code vocabSize} tokens.
     *
     * @throws IllegalStateException when the text has too few distinct pairs to reach that size
     */
    static Result train(String text, int vocabSize) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            vocab.put(ByteLevelAlphabet.token(b), b);
        }
        List<String[]> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        wordCounts(text).forEach((word, count) -> {
            words.add(ByteLevelAlphabet.symbols(word));
            counts.add(count);
        });
        List<String> merges = new ArrayList<>();
        while (vocab.size() < vocabSize) {
            String[] best = bestPair(words, counts);
            if (best == null) {
                throw new IllegalStateException("the text yields only " + vocab.size() + " tokens, not " + vocabSize);
            }
            String merged = best[0] + best[1];
            merges.add(best[0] + " " + best[1]);
            // two different pairs can spell the same token ("a"+"bc", "ab"+"c"): it keeps its first id
            vocab.putIfAbsent(merged, vocab.size());
            for (int i = 0; i < words.size(); i++) {
                words.set(i, apply(words.get(i), best[0], best[1], merged));
            }
        }
        return new Result(vocab, merges);
    }

    /** Sorted by word so that the order of first appearance in the text does not matter. */
    private static Map<String, Integer> wordCounts(String text) {
        Map<String, Integer> counts = new TreeMap<>();
        Matcher m = WORD.matcher(text);
        while (m.find()) {
            counts.merge(m.group(), 1, Integer::sum);
        }
        return counts;
    }

    private static String[] bestPair(List<String[]> words, List<Integer> counts) {
        Map<String, Integer> pairCounts = new HashMap<>();
        Map<String, String[]> pairs = new HashMap<>();
        for (int w = 0; w < words.size(); w++) {
            String[] s = words.get(w);
            for (int i = 0; i + 1 < s.length; i++) {
                // byte-level tokens hold no space, so "left right" names a pair unambiguously
                String key = s[i] + " " + s[i + 1];
                pairCounts.merge(key, counts.get(w), Integer::sum);
                pairs.putIfAbsent(key, new String[] {s[i], s[i + 1]});
            }
        }
        String bestKey = null;
        int bestCount = 0;
        for (var e : pairCounts.entrySet()) {
            int c = e.getValue();
            if (c > bestCount || (c == bestCount && e.getKey().compareTo(bestKey) < 0)) {
                bestKey = e.getKey();
                bestCount = c;
            }
        }
        return bestKey == null ? null : pairs.get(bestKey);
    }

    /** Merges every non-overlapping occurrence of (left, right), left to right, as the BPE encoder does. */
    private static String[] apply(String[] s, String left, String right, String merged) {
        List<String> out = new ArrayList<>(s.length);
        for (int i = 0; i < s.length; i++) {
            if (i + 1 < s.length && s[i].equals(left) && s[i + 1].equals(right)) {
                out.add(merged);
                i++;
            } else {
                out.add(s[i]);
            }
        }
        return out.size() == s.length ? s : out.toArray(String[]::new);
    }
}
