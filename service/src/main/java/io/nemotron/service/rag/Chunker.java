package io.nemotron.service.rag;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a document into chunks of at most {@code chunkTokens} tokens that repeat about {@code overlapTokens}
 * tokens of their predecessor. Chunks start and end on word boundaries (runs of non-whitespace; a run longer than
 * {@value #MAX_PIECE_CODE_POINTS} code points is cut into pieces of that many), which are token boundaries for
 * Llama-3's pre-tokenizer. Lengths are exact counts of the chunk text, found by a secant/bisection search over
 * the pieces, so the counter only needs {@code count(String)}. A single piece longer than chunkTokens is a chunk
 * of its own.
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
        double tokensPerPiece = 1.5; // refined from each chunk; only steers the searches, never decides a length
        while (first < n) {
            // NOTE: every piece is at least one token, so a chunk never spans more than chunkTokens pieces.
            int maxLast = Math.min(n - 1, first + chunkTokens - 1);
            int guess = first + (int) (chunkTokens / tokensPerPiece) - 1;
            final int from = first;
            int[] fit = largestFitting(m -> count(text, pieces, from, from + m), chunkTokens,
                    maxLast - first, guess - first, tokensPerPiece);
            int last = first + Math.max(0, fit[0]);
            int tokens = fit[0] >= 0 ? fit[1] : count(text, pieces, first, last);
            tokensPerPiece = Math.max(0.05, (double) tokens / (last - first + 1));
            int start = pieces[2 * first];
            int end = pieces[2 * last + 1];
            int fresh = previousEnd < 0 ? tokens : counter.count(text.substring(previousEnd, end));
            chunks.add(new Chunk(doc, chunks.size(), start, end, text.substring(start, end), tokens, fresh));
            if (last == n - 1) {
                break;
            }
            // NOTE: the overlap is estimated from this chunk's tokens per piece, not counted: it is a target only,
            // and searching for it would double the tokenizer calls per chunk.
            // At most half the chunk's pieces, as overlapTokens is at most half of chunkTokens: each chunk moves on
            // by at least half a chunk even where the estimate is poor.
            int overlapPieces = Math.min((last - first + 1) / 2, (int) Math.round(overlapTokens / tokensPerPiece));
            int next = last + 1 - overlapPieces;
            first = Math.max(first + 1, next);
            previousEnd = end;
        }
        return chunks;
    }

    /**
     * The largest m in [0, max] with f(m) <= target for a non-decreasing f, as {m, f(m)}; m is -1 when even
     * f(0) exceeds the target (then f(m) is -1 too). Secant steps from {@code guess},
     * bisection when they stall: a few counts per chunk rather than log2(chunkTokens).
     */
    static int[] largestFitting(java.util.function.IntUnaryOperator f, int target, int max, int guess, double slope) {
        if (max < 0) {
            return new int[] {-1, -1};
        }
        int lo = -1; // largest m known to fit
        int loValue = -1;
        int hi = max + 1; // smallest m known not to fit
        int hiValue = Integer.MAX_VALUE;
        int m = Math.clamp(guess, 0, max);
        while (hi - lo > 1) {
            int v = f.applyAsInt(m);
            if (v <= target) {
                lo = m;
                loValue = v;
            } else {
                hi = m;
                hiValue = v;
            }
            int next;
            if (lo < 0) {
                next = (int) (hi - 1 - (hiValue - target) / slope);
            } else if (hi > max) {
                next = lo + Math.max(1, (int) ((target - loValue) / slope));
            } else {
                next = lo + (int) ((long) (hi - lo) * (target - loValue) / Math.max(1, hiValue - loValue));
            }
            if (next <= lo || next >= hi) {
                next = next <= lo ? lo + 1 : hi - 1;
                if (next == m) {
                    next = (lo + hi) >>> 1;
                }
            }
            m = next;
        }
        return new int[] {lo, loValue};
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
