package io.nemotron.service.rag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The context is rendered in request order, so equal documents and budget give an equal prompt prefix. */
class RagStableOrderTest {

    private static final List<RagDocument> DOCS = List.of(
            new RagDocument("gpu", "GPUs", "A GPU runs thousands of threads; matrix multiplication on tensor cores "
                    + "dominates the time of a transformer forward pass.", null),
            new RagDocument("kv", "KV cache", "The key-value cache stores attention keys and values of earlier "
                    + "tokens so decoding a new token does not recompute the whole prefix.", null),
            new RagDocument("rope", "RoPE", "Rotary position embeddings rotate query and key vectors by an angle "
                    + "that depends on the token position.", null),
            new RagDocument("bpe", "Tokenizers", "Byte-pair encoding merges the most frequent pairs of symbols "
                    + "until the vocabulary reaches its target size.", null));

    private final RagAssembler assembler =
            new RagAssembler(RagTesting.llamaCounter(), RagOptions.DEFAULTS, EmbeddingRanker.shared());

    @Test
    void sameInputTwiceGivesIdenticalText() {
        RagContext a = assembler.assemble(DOCS, "How does the KV cache speed up decoding?", 90);
        RagContext b = assembler.assemble(DOCS, "How does the KV cache speed up decoding?", 90);
        assertEquals(a, b);
        assertTrue(a.usedIds().contains("kv"));
    }

    @Test
    void relevanceDoesNotReorderRenderedDocuments() {
        // each question favours a different document; with room for all, the text must not change
        String[] questions = {"What are rotary position embeddings?", "Why use tensor cores?",
                "How does byte-pair encoding build a vocabulary?", "What does the key-value cache store?"};
        String first = null;
        for (String q : questions) {
            RagContext ctx = assembler.assemble(DOCS, q, 10_000);
            assertEquals(List.of("gpu", "kv", "rope", "bpe"), ctx.usedIds());
            if (first == null) {
                first = ctx.text();
            }
            assertEquals(first, ctx.text(), q);
        }
        assertInRequestOrder(first, List.of("gpu", "kv", "rope", "bpe"));
    }

    @Test
    void clientScoresDoNotReorderRenderedDocuments() {
        List<RagDocument> scored = new ArrayList<>();
        for (int i = 0; i < DOCS.size(); i++) {
            RagDocument d = DOCS.get(i);
            scored.add(new RagDocument(d.id(), d.title(), d.text(), (double) (DOCS.size() - i) * (i % 2 == 0 ? 1 : -1)));
        }
        assertEquals(assembler.assemble(DOCS, "", 10_000).text(), assembler.assemble(scored, "", 10_000).text());
    }

    @Test
    void partialSelectionIsRenderedInRequestOrderNotByScore() {
        // "rope" is the best match and "gpu" a weaker one; "gpu" comes first in the request and in the text
        RagContext ctx = assembler.assemble(DOCS, "rotary position embeddings of query and key vectors on a GPU", 75);
        assertTrue(ctx.usedIds().contains("rope"), ctx.toString());
        assertTrue(ctx.usedIds().size() < DOCS.size(), "the budget must drop something: " + ctx);
        assertInRequestOrder(ctx.text(), ctx.usedIds());
        assertEquals(DOCS.size(), ctx.usedIds().size() + ctx.droppedIds().size());
    }

    @Test
    void adjacentChunksOfOneDocumentMergeWithoutRepeatingTheOverlap() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 120; i++) {
            sb.append("Sentence number ").append(i).append(" talks about paged attention block ").append(i * 7).append(". ");
        }
        String text = sb.toString().strip();
        RagAssembler small = new RagAssembler(RagTesting.llamaCounter(), new RagOptions(64, 16, 0.9, 0, 0.9),
                EmbeddingRanker.disabled());
        RagContext ctx = small.assemble(List.of(new RagDocument("long", "Long", text, null)), "paged attention", 100_000);
        assertEquals(ContextRenderer.OPEN + "[long] Long\n" + text + "\n" + ContextRenderer.CLOSE, ctx.text());
        assertEquals(RagTesting.recount(ctx.text()), ctx.tokenCount());
    }

    @Test
    void nonAdjacentChunksOfOneDocumentShareOneHeader() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            sb.append(i == 5 ? "The zebra topic appears here. " : i == 50 ? "Zebra again near the end. " : "Filler sentence " + i + " about nothing. ");
        }
        RagAssembler small = new RagAssembler(RagTesting.llamaCounter(), new RagOptions(32, 0, 0.9, 0, 0.9),
                EmbeddingRanker.disabled());
        RagContext ctx = small.assemble(List.of(new RagDocument("z", null, sb.toString(), null)), "zebra", 120);
        assertEquals(List.of("z"), ctx.usedIds());
        assertTrue(ctx.text().contains(ContextRenderer.GAP), ctx.text());
        assertEquals(1, ctx.text().split("\\[z\\]", -1).length - 1, "one citation header");
        assertTrue(RagTesting.recount(ctx.text()) <= 120);
    }

    @Test
    void userTurnPutsTheDocumentsBeforeTheQuestion() {
        String q = "What does the key-value cache store?";
        RagContext ctx = assembler.assemble(DOCS, q, 10_000);
        String turn = ctx.userTurn(q);
        assertTrue(turn.startsWith("Use the following documents to answer. Cite them by id"));
        assertTrue(turn.endsWith("</documents>\n\n" + q));
        assertEquals(q, RagContext.EMPTY.userTurn(q));
        assertNotEquals(RagContext.EMPTY, ctx);
    }

    private static void assertInRequestOrder(String text, List<String> ids) {
        int previous = -1;
        for (String id : ids) {
            int at = text.indexOf("[" + id + "]");
            assertTrue(at > previous, id + " out of request order in\n" + text);
            previous = at;
        }
    }
}
