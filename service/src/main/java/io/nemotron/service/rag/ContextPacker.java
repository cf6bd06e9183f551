package io.nemotron.service.rag;

import java.util.List;

/**
 * Chooses chunks, best ranked first, while the rendered context fits the budget. Selection uses an additive
 * estimate (chunk counts, overlap-free counts for merged neighbours, header and separator counts); the result is
 * then rendered and counted exactly, and the worst-ranked chunk is removed until the exact count fits. A chunk
 * whose estimate misses by a few tokens is checked against an exact count (a few times per request). The
 * budget is therefore a hard limit on the rendered text; the estimate only decides how full it gets.
 */
final class ContextPacker {

    record Packed(String text, int tokens, boolean[] selected) {}

    private static final int EXACT_CHECKS = 8;
    private static final int NEAR_MISS = 4;

    private final TokenCounter counter;

    ContextPacker(TokenCounter counter) {
        this.counter = counter;
    }

    /**
     * @param chunks  all chunks in request order (document, then chunk index)
     * @param ranked  indices into chunks of the candidates, best first (duplicates already left out)
     */
    Packed pack(List<String> headers, List<String> texts, List<Chunk> chunks, int[] ranked, int budget) {
        boolean[] selected = new boolean[chunks.size()];
        int fixed = counter.count(ContextRenderer.OPEN) + counter.count(ContextRenderer.CLOSE);
        if (ranked.length == 0 || fixed >= budget) {
            return new Packed("", 0, selected);
        }
        // one document's end and the separator after it (the last one's before CLOSE) render as one blank line
        int docOverhead = counter.count(ContextRenderer.DOC_END + ContextRenderer.DOC_SEPARATOR);
        int gap = counter.count(ContextRenderer.GAP);
        int[] headerCost = new int[headers.size()];
        int[] docCost = new int[headers.size()];
        int[] docFirst = new int[headers.size()];
        int[] docEnd = new int[headers.size()];
        java.util.Arrays.fill(docFirst, -1);
        for (int i = 0; i < chunks.size(); i++) {
            int d = chunks.get(i).doc();
            if (docFirst[d] < 0) {
                docFirst[d] = i;
            }
            docEnd[d] = i + 1;
        }
        int total = fixed;
        int[] chosen = new int[ranked.length]; // selection order, best first
        int nChosen = 0;
        int exactChecks = EXACT_CHECKS;
        for (int c : ranked) {
            int d = chunks.get(c).doc();
            if (headerCost[d] == 0) {
                headerCost[d] = counter.count(headers.get(d)) + docOverhead;
            }
            selected[c] = true;
            int after = estimate(chunks, selected, docFirst[d], docEnd[d], headerCost[d], gap);
            int proposed = total - docCost[d] + after;
            boolean fits = proposed <= budget;
            if (!fits && proposed <= budget + NEAR_MISS && exactChecks > 0) {
                // NOTE: the estimate errs high where text and separator merge into one token (".\n\n"), so a
                // near miss gets an exact count, which then anchors the running total
                exactChecks--;
                int exact = counter.count(ContextRenderer.render(headers, texts, chunks, selected));
                if (exact <= budget) {
                    fits = true;
                    proposed = exact;
                }
            }
            if (fits) {
                total = proposed;
                docCost[d] = after;
                chosen[nChosen++] = c;
            } else {
                selected[c] = false;
            }
        }
        while (nChosen > 0) {
            String text = ContextRenderer.render(headers, texts, chunks, selected);
            int tokens = counter.count(text);
            if (tokens <= budget) {
                return new Packed(text, tokens, selected);
            }
            selected[chosen[--nChosen]] = false; // NOTE: the estimate was low; give up the worst-ranked chunk
        }
        return new Packed("", 0, selected);
    }

    /** Estimated tokens of one document's rendered part given the selection; 0 when none of it is selected. */
    private static int estimate(List<Chunk> chunks, boolean[] selected, int from, int to, int header, int gap) {
        int cost = 0;
        int spans = 0;
        boolean previous = false;
        for (int i = from; i < to; i++) {
            if (!selected[i]) {
                previous = false;
                continue;
            }
            Chunk c = chunks.get(i);
            if (previous) {
                cost += c.freshTokens();
            } else {
                cost += c.tokens();
                spans++;
            }
            previous = true;
        }
        return spans == 0 ? 0 : cost + header + (spans - 1) * gap;
    }
}
