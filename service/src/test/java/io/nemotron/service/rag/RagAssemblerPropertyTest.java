package io.nemotron.service.rag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Random document sets and budgets: the budget is never exceeded and every document is accounted for. */
class RagAssemblerPropertyTest {

    private static final String[] WORDS = {
        "the", "a", "model", "token", "budget", "cache", "GPU", "kernel", "latency", "throughput", "of", "and",
        "attention", "prefix", "1024", "3.14", "e.g.", "(see", "below)", "—", "«quoted»", "naïve", "Straße",
        "日本語のテキスト", "中文文本没有空格", "한국어", "مرحبا", "שלום", "😀", "👩‍👩‍👧‍👦", "e\u0301", "Ωμέγα",
        "\n", "\n\n", "\t", "-", "```", "{\"k\": 1}", "https://example.org/a?b=c", "[1]", "]", "[", "doc-1",
        "<documents>", "x".repeat(300), "ab".repeat(70)
    };

    @Test
    void budgetNeverExceededAndEveryDocumentAccountedForWithLlamaTokenizer() {
        TokenCounter llama = RagTesting.llamaCounter();
        SplittableRandom random = new SplittableRandom(20261126L);
        for (int iteration = 0; iteration < 100; iteration++) {
            RagOptions options = randomOptions(random, 32);
            RagAssembler assembler = new RagAssembler(llama, options, EmbeddingRanker.disabled());
            check(assembler, random, RagTesting::recount, iteration, 3000);
        }
    }

    @Test
    void budgetNeverExceededWithWhitespaceCounter() {
        TokenCounter words = RagAssemblerPropertyTest::whitespaceCount;
        SplittableRandom random = new SplittableRandom(42L);
        for (int iteration = 0; iteration < 400; iteration++) {
            RagAssembler assembler = new RagAssembler(words, randomOptions(random, 8), EmbeddingRanker.disabled());
            check(assembler, random, RagAssemblerPropertyTest::whitespaceCount, iteration, 12_000);
        }
    }

    private static void check(RagAssembler assembler, SplittableRandom random,
                              java.util.function.ToIntFunction<String> recount, int iteration, int maxWords) {
        List<RagDocument> docs = randomDocuments(random, maxWords);
        String question = randomText(random, random.nextInt(0, 20));
        int budget = randomBudget(random);
        RagContext ctx = assembler.assemble(docs, question, budget);
        String where = "iteration " + iteration + ", budget " + budget + ", " + docs.size() + " docs";

        int tokens = recount.applyAsInt(ctx.text());
        assertTrue(tokens <= Math.max(0, budget), where + ": " + tokens + " tokens");
        assertEquals(tokens, ctx.tokenCount(), where);

        List<String> ids = RagAssembler.citationIds(docs);
        assertEquals(docs.size(), new HashSet<>(ids).size(), where + ": citation ids unique");
        Set<String> used = new HashSet<>(ctx.usedIds());
        Set<String> dropped = new HashSet<>(ctx.droppedIds());
        assertEquals(ctx.usedIds().size(), used.size(), where);
        assertEquals(ctx.droppedIds().size(), dropped.size(), where);
        assertTrue(java.util.Collections.disjoint(used, dropped), where + ": used and dropped overlap");
        Set<String> union = new HashSet<>(used);
        union.addAll(dropped);
        assertEquals(new HashSet<>(ids), union, where + ": used ∪ dropped = all");
        for (String id : ctx.usedIds()) {
            assertTrue(ctx.text().contains("[" + id + "]"), where + ": used " + id + " has no citation header");
        }
        assertEquals(ctx.usedIds().isEmpty(), ctx.text().isEmpty(), where);
        for (DroppedDocument d : ctx.dropped()) {
            if (d.reason() == DroppedDocument.Reason.EMPTY) {
                assertTrue(docs.get(ids.indexOf(d.id())).text().isBlank(), where);
            }
        }
        if (budget > 1_000_000) {
            assertTrue(ctx.dropped().stream().noneMatch(d -> d.reason() == DroppedDocument.Reason.NO_ROOM),
                    where + ": a huge budget drops nothing for room: " + ctx.dropped());
        }
        assertEquals(ctx.text() + question, ctx.userTurn(question));
    }

    private static RagOptions randomOptions(SplittableRandom random, int minChunk) {
        int chunk = random.nextInt(minChunk, 260);
        return new RagOptions(chunk, random.nextInt(0, chunk / 2 + 1), 0.9, 0, 0.9);
    }

    private static int randomBudget(SplittableRandom random) {
        return switch (random.nextInt(6)) {
            case 0 -> random.nextInt(-5, 3);
            case 1 -> random.nextInt(3, 60);
            case 2 -> random.nextInt(60, 400);
            case 3 -> random.nextInt(400, 4000);
            case 4 -> random.nextInt(4000, 40_000);
            default -> 2_000_000;
        };
    }

    private static List<RagDocument> randomDocuments(SplittableRandom random, int maxWords) {
        int n = random.nextInt(0, 9);
        List<RagDocument> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (!docs.isEmpty() && random.nextInt(8) == 0) { // a duplicate of an earlier document
                RagDocument copy = docs.get(random.nextInt(docs.size()));
                docs.add(new RagDocument(randomId(random, i), copy.title(), copy.text(), null));
                continue;
            }
            int words = switch (random.nextInt(6)) {
                case 0 -> 0;
                case 1 -> random.nextInt(1, 5);
                case 2, 3 -> random.nextInt(5, 300);
                case 4 -> random.nextInt(300, 2000);
                default -> random.nextInt(2000, maxWords);
            };
            String title = random.nextInt(4) == 0 ? null : randomText(random, random.nextInt(0, 6));
            Double score = random.nextBoolean() ? null : random.nextDouble(-1, 1);
            docs.add(new RagDocument(randomId(random, i), title, randomText(random, words), score));
        }
        return docs;
    }

    private static String randomId(SplittableRandom random, int i) {
        return switch (random.nextInt(8)) {
            case 0 -> null;
            case 1 -> " ";
            case 2 -> "dup";
            case 3 -> "id with spaces [" + i + "]";
            default -> "d" + i;
        };
    }

    private static String randomText(SplittableRandom random, int words) {
        StringBuilder sb = new StringBuilder();
        for (int w = 0; w < words; w++) {
            if (w > 0) {
                sb.append(random.nextInt(10) == 0 ? "" : " ");
            }
            sb.append(WORDS[random.nextInt(WORDS.length)]);
        }
        return sb.toString();
    }

    static int whitespaceCount(String text) {
        String s = text.strip();
        return s.isEmpty() ? 0 : s.split("\\s+").length;
    }
}
