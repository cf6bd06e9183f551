package io.nemotron.service.rag;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a document into chunks of about {@code chunkTokens} tokens that repeat about {@code overlapTokens}
 * tokens of their predecessor. Chunks start and end on word boundaries (runs of non-whitespace; a run longer than
 * {@value #MAX_PIECE_CODE_POINTS} code points is cut into pieces of that many), which are token boundaries for
 * Llama-3's pre-tokenizer. Lengths are exact counts of the chunk text, found by binary search over the pieces,
 * so the counter only needs {@code count(String)}.
 */
final class Chunker {

    static final int MAX_PIECE_CODE_POINTS = 16;

    private final TokenCounter counter;
    private final int chunkTokens;
    private final int overlapTokens;

    Chunker(TokenCounter counter, int chunkTokens, int overlapTokens) {
        this.counter = counter;
        this.chunkTokens = chunkTokens;
        this.overlapTokens = overlapTokens;
    }

    List<Chunk> split(int doc, String text) {
        int[] pieces = pieces(text); // start0, end0, start1, end1, ...
        int n = pieces.length / 2;
        List<Chunk> chunks = new ArrayList<>();
        int first = 0;
        int previousEnd = -1;
        while (first < n) {
            // NOTE: every piece is at least one token, so a chunk never spans more than chunkTokens pieces.
            int hi = Math.min(n - 1, first + chunkTokens - 1);
            int last = first;
            int tokens = count(text, pieces, first, hi);
            if (tokens <= chunkTokens) {
                last = hi;
            } else {
                int lo = first;
                tokens = count(text, pieces, first, first);
                while (lo < hi) { // invariant: span(first, lo) fits or lo == first; span(first, hi + 1..) was too long
                    int mid = (lo + hi + 1) >>> 1;
                    int t = count(text, pieces, first, mid);
                    if (t <= chunkTokens) {
                        lo = mid;
                        tokens = t;
                    } else {
                        hi = mid - 1;
                    }
                }
                last = lo;
            }
            int start = pieces[2 * first];
            int end = pieces[2 * last + 1];
            int fresh = previousEnd < 0 ? tokens : counter.count(text.substring(previousEnd, end));
            chunks.add(new Chunk(doc, chunks.size(), start, end, text.substring(start, end), tokens, fresh));
            if (last == n - 1) {
                break;
            }
            first = Math.max(first + 1, overlapStart(text, pieces, first, last));
            previousEnd = end;
        }
        return chunks;
    }

    /** The first piece of the shortest suffix of span(first, last) holding at most overlapTokens, or last + 1. */
    private int overlapStart(String text, int[] pieces, int first, int last) {
        if (overlapTokens == 0) {
            return last + 1;
        }
        int lo = Math.max(first + 1, last - overlapTokens + 1);
        int hi = last + 1;
        while (lo < hi) { // smallest k in [lo, last] with span(k, last) <= overlapTokens, else last + 1
            int mid = (lo + hi) >>> 1;
            if (count(text, pieces, mid, last) <= overlapTokens) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private int count(String text, int[] pieces, int first, int last) {
        return counter.count(text.substring(pieces[2 * first], pieces[2 * last + 1]));
    }

    /** Pieces of non-whitespace text as [start, end) pairs. */
    static int[] pieces(String text) {
        int[] out = new int[16];
        int n = 0;
        int i = 0;
        int len = text.length();
        while (i < len) {
            int cp = text.codePointAt(i);
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            int start = i;
            int codePoints = 0;
            while (i < len) {
                int c = text.codePointAt(i);
                if (Character.isWhitespace(c) || Character.isSpaceChar(c) || codePoints == MAX_PIECE_CODE_POINTS) {
                    break;
                }
                i += Character.charCount(c);
                codePoints++;
            }
            if (n + 2 > out.length) {
                out = java.util.Arrays.copyOf(out, out.length * 2);
            }
            out[n++] = start;
            out[n++] = i;
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
