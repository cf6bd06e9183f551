package io.nemotron.service.rag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class NearDuplicateFilterTest {

    private static final String TEXT = "Paged attention stores the key value cache in fixed size blocks, so memory "
            + "for a sequence grows one block at a time and freed blocks return to a shared pool. Prefix caching "
            + "hashes full blocks of token ids, and a new request whose prompt starts with the same tokens reuses "
            + "those blocks instead of computing them again, which shortens the time to the first token.";

    private final RagAssembler assembler =
            new RagAssembler(RagTesting.llamaCounter(), RagOptions.DEFAULTS, EmbeddingRanker.disabled());

    @Test
    void duplicatedDocumentIsRenderedOnceAndReportedDropped() {
        List<RagDocument> docs = List.of(
                new RagDocument("a", "Paging", TEXT, null),
                new RagDocument("b", "Other", "Speculative decoding drafts tokens with a small model.", null),
                new RagDocument("a-copy", "Paging (mirror)", TEXT, 0.99));
        RagContext ctx = assembler.assemble(docs, "how does prefix caching work", 10_000);
        assertEquals(List.of("a", "b"), ctx.usedIds());
        assertEquals(List.of(new DroppedDocument("a-copy", DroppedDocument.Reason.DUPLICATE)), ctx.dropped());
        assertEquals(1, ctx.text().split("Prefix caching", -1).length - 1, ctx.text());
    }

    @Test
    void nearDuplicateWithCaseAndPunctuationChangesAndOneWordEditedIsDropped() {
        String edited = TEXT.toUpperCase().replace(",", ";").replace("shared pool", "common pool");
        RagContext ctx = assembler.assemble(List.of(new RagDocument("a", null, TEXT, null),
                new RagDocument("b", null, edited, null)), "prefix caching", 10_000);
        assertEquals(List.of("a"), ctx.usedIds());
        assertEquals(List.of("b"), ctx.droppedIds());
    }

    @Test
    void duplicateChunksOfLongDocumentsAppearOnce() {
        String longText = (TEXT + " ").repeat(1) + "Unrelated closing words about schedulers and batching. ".repeat(40);
        RagAssembler small = new RagAssembler(RagTesting.llamaCounter(), new RagOptions(48, 8, 0.9, 0, 0.9),
                EmbeddingRanker.disabled());
        RagContext ctx = small.assemble(List.of(new RagDocument("x", null, TEXT, null),
                new RagDocument("y", null, longText, null)), "prefix caching blocks", 100_000);
        assertEquals(1, ctx.text().split("Prefix caching hashes", -1).length - 1, ctx.text());
        assertTrue(ctx.usedIds().contains("x"));
    }

    @Test
    void jaccardThreshold() {
        NearDuplicateFilter filter = new NearDuplicateFilter(0.9);
        String base = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                + "sixteen seventeen eighteen nineteen twenty twentyone twentytwo twentythree twentyfour";
        String changed = base.replace("twelve", "dozen"); // 3 of 22 shingles change: Jaccard 19/25
        List<Chunk> chunks = List.of(chunk(0, base), chunk(1, base.replace("one two", "One, two!")), chunk(2, changed));
        boolean[] keep = filter.keep(chunks);
        assertTrue(keep[0]);
        assertFalse(keep[1]);
        assertTrue(keep[2]);
    }

    private static Chunk chunk(int doc, String text) {
        return new Chunk(doc, 0, 0, text.length(), text, 1, 1);
    }
}
