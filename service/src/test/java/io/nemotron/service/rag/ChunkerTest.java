package io.nemotron.service.rag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ChunkerTest {

    @Test
    void chunksFitTheTargetOverlapAndCoverTheTextWithLlamaTokens() {
        TokenCounter llama = RagTesting.llamaCounter();
        SplittableRandom random = new SplittableRandom(7);
        String[] words = {"attention", "is", "all", "you", "need", "über", "東京", "🙂", "1,234.5", "\n", "x".repeat(40)};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            sb.append(words[random.nextInt(words.length)]).append(random.nextInt(6) == 0 ? "" : " ");
        }
        String text = sb.toString();
        List<Chunk> chunks = new Chunker(llama, 200, 40).split(3, text);
        assertTrue(chunks.size() > 10);
        int covered = 0;
        for (int i = 0; i < chunks.size(); i++) {
            Chunk c = chunks.get(i);
            assertEquals(3, c.doc());
            assertEquals(i, c.index());
            assertEquals(text.substring(c.start(), c.end()), c.text());
            assertEquals(RagTesting.recount(c.text()), c.tokens());
            assertTrue(c.tokens() <= 200, "chunk " + i + ": " + c.tokens());
            assertTrue(c.start() <= covered || text.substring(covered, c.start()).isBlank(), "gap before chunk " + i);
            if (i > 0) {
                Chunk p = chunks.get(i - 1);
                assertTrue(c.start() > p.start() && c.end() > p.end());
                assertTrue(c.start() < p.end(), "chunks overlap");
                int overlap = RagTesting.recount(text.substring(c.start(), p.end()));
                assertTrue(overlap <= 80, "overlap of chunk " + i + " is about 40 tokens, was " + overlap);
                if (i < chunks.size() - 1) {
                    assertTrue(c.tokens() >= 150, "chunk " + i + " is not cut short: " + c.tokens());
                }
            }
            covered = c.end();
        }
        assertEquals(text.length() - text.stripLeading().length(), chunks.getFirst().start());
        assertEquals(text.stripTrailing().length(), covered);
    }

    @Test
    void shortAndEmptyTexts() {
        Chunker chunker = new Chunker(RagTesting.llamaCounter(), 200, 40);
        assertEquals(List.of(), chunker.split(0, ""));
        assertEquals(List.of(), chunker.split(0, " \n\t "));
        List<Chunk> one = chunker.split(0, "  Hello, world.  ");
        assertEquals(1, one.size());
        assertEquals("Hello, world.", one.getFirst().text());
    }

    @Test
    void longRunsWithoutSpacesAreCutOnCodePoints() {
        String emoji = "😀".repeat(500);
        List<Chunk> chunks = new Chunker(RagTesting.llamaCounter(), 32, 0).split(0, emoji);
        StringBuilder joined = new StringBuilder();
        for (Chunk c : chunks) {
            assertTrue(c.tokens() <= 32 || c.text().codePointCount(0, c.text().length()) <= Chunker.MAX_PIECE_CODE_POINTS);
            assertEquals(0, c.text().length() % 2, "no surrogate pair is split");
            joined.append(c.text());
        }
        assertEquals(emoji, joined.toString());
    }

    @Test
    void largestFittingFindsTheBoundaryFromAnyGuess() {
        for (int target = 0; target < 60; target++) {
            for (int guess = -3; guess < 70; guess += 7) {
                int t = target;
                int[] r = Chunker.largestFitting(m -> 2 * m + 1, t, 40, guess, 1.0);
                int expected = t < 1 ? -1 : Math.min(40, (t - 1) / 2);
                assertEquals(expected, r[0], "target " + t + " guess " + guess);
            }
        }
    }
}
