package io.nemotron.service.rag;

import io.nemotron.service.rag.DroppedDocument.Reason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Documents in, token-budgeted context out: chunk ({@link Chunker}), drop near duplicates
 * ({@link NearDuplicateFilter}), rank by BM25 and dense similarity ({@link Bm25Ranker}, {@link EmbeddingRanker},
 * {@link RankFusion}), pack the best into the budget ({@link ContextPacker}) and render them in request order
 * with citation ids ({@link ContextRenderer}). Thread-safe: one instance serves all requests of a model.
 */
public final class RagAssembler {

    private final RagOptions options;
    private final EmbeddingRanker dense;
    private final Chunker chunker;
    private final NearDuplicateFilter duplicates;
    private final Bm25Ranker bm25 = new Bm25Ranker();
    private final RankFusion fusion;
    private final ContextPacker packer;

    /** @param dense {@link EmbeddingRanker#shared()} in production, {@link EmbeddingRanker#disabled()} for BM25 only */
    public RagAssembler(TokenCounter counter, RagOptions options, EmbeddingRanker dense) {
        this.options = options;
        this.dense = dense;
        this.chunker = new Chunker(counter, options.chunkTokens(), options.overlapTokens());
        this.duplicates = new NearDuplicateFilter(options.duplicateJaccard());
        this.fusion = new RankFusion(options.denseWeight());
        this.packer = new ContextPacker(counter);
    }

    public RagAssembler(TokenCounter counter) {
        this(counter, RagOptions.DEFAULTS, EmbeddingRanker.shared());
    }

    /**
     * @param documents    the request's documents, in request order
     * @param question     the text of the last user message
     * @param budgetTokens the most tokens {@link RagContext#text()} may take (context length - max tokens - the
     *                     rest of the prompt, or a smaller configured limit); 0 or less admits nothing
     */
    public RagContext assemble(List<RagDocument> documents, String question, int budgetTokens) {
        if (documents.isEmpty()) {
            return RagContext.EMPTY;
        }
        String q = question == null ? "" : question;
        List<String> ids = citationIds(documents);
        List<String> headers = new ArrayList<>(documents.size());
        List<String> texts = new ArrayList<>(documents.size());
        List<Chunk> chunks = new ArrayList<>();
        for (int d = 0; d < documents.size(); d++) {
            RagDocument doc = documents.get(d);
            headers.add(ContextRenderer.header(ids.get(d), doc.title()));
            texts.add(doc.text());
            chunks.addAll(chunker.split(d, doc.text()));
        }
        boolean[] keep = duplicates.keep(chunks);
        int[] candidates = IntStream.range(0, chunks.size()).filter(i -> keep[i]).toArray();
        int[] ranked = rank(documents, q, chunks, candidates);
        ContextPacker.Packed packed = packer.pack(headers, texts, chunks, ranked, budgetTokens);
        return result(documents, ids, chunks, keep, packed);
    }

    /** Indices into chunks of the candidates, best first. */
    private int[] rank(List<RagDocument> documents, String question, List<Chunk> chunks, int[] candidates) {
        int n = candidates.length;
        List<String> passages = new ArrayList<>(n);
        Double[] client = new Double[n];
        for (int i = 0; i < n; i++) {
            Chunk c = chunks.get(candidates[i]);
            RagDocument doc = documents.get(c.doc());
            String title = doc.title() == null ? "" : doc.title().strip();
            passages.add(title.isEmpty() ? c.text() : title + "\n" + c.text());
            client[i] = doc.score();
        }
        int[] position = IntStream.range(0, n).toArray(); // candidates are in request order
        double[] lexical = bm25.scores(question, passages);
        double[] semantic = denseScores(question, passages, lexical);
        int[] order = fusion.rank(lexical, semantic, client, position);
        return Arrays.stream(order).map(i -> candidates[i]).toArray();
    }

    /** Cosines for the best {@code maxDenseChunks} passages by BM25 (then position), NaN elsewhere; or null. */
    private double[] denseScores(String question, List<String> passages, double[] lexical) {
        int limit = Math.min(options.maxDenseChunks(), passages.size());
        if (limit == 0) {
            return null;
        }
        int[] chosen = IntStream.range(0, passages.size()).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -lexical[i]).thenComparingInt(i -> i))
                .limit(limit).mapToInt(Integer::intValue).sorted().toArray();
        List<String> subset = Arrays.stream(chosen).mapToObj(passages::get).toList();
        return dense.scores(question, subset).map(scores -> {
            double[] all = new double[passages.size()];
            Arrays.fill(all, Double.NaN);
            for (int i = 0; i < chosen.length; i++) {
                all[chosen[i]] = scores[i];
            }
            return all;
        }).orElse(null);
    }

    private static RagContext result(List<RagDocument> documents, List<String> ids, List<Chunk> chunks,
                                     boolean[] keep, ContextPacker.Packed packed) {
        int docs = documents.size();
        boolean[] used = new boolean[docs];
        boolean[] hasChunks = new boolean[docs];
        boolean[] hasKept = new boolean[docs];
        for (int i = 0; i < chunks.size(); i++) {
            int d = chunks.get(i).doc();
            hasChunks[d] = true;
            hasKept[d] |= keep[i];
            used[d] |= packed.selected()[i];
        }
        List<String> usedIds = new ArrayList<>();
        List<DroppedDocument> dropped = new ArrayList<>();
        for (int d = 0; d < docs; d++) {
            if (used[d]) {
                usedIds.add(ids.get(d));
            } else {
                Reason why = !hasChunks[d] ? Reason.EMPTY : !hasKept[d] ? Reason.DUPLICATE : Reason.NO_ROOM;
                dropped.add(new DroppedDocument(ids.get(d), why));
            }
        }
        return new RagContext(packed.text(), packed.tokens(), usedIds, dropped);
    }

    /**
     * The id each document is cited by: its own id with whitespace and square brackets replaced by '-'; "doc-N"
     * (N = 1-based request position) when blank; "-N" appended to a repeated id, so ids are unique.
     */
    public static List<String> citationIds(List<RagDocument> documents) {
        List<String> out = new ArrayList<>(documents.size());
        Set<String> seen = new HashSet<>();
        for (int d = 0; d < documents.size(); d++) {
            String raw = documents.get(d).id();
            String id = raw == null ? "" : raw.strip().replaceAll("[\\s\\[\\]]+", "-");
            if (id.isEmpty()) {
                id = "doc-" + (d + 1);
            }
            String unique = id;
            for (int k = d + 1; !seen.add(unique); k++) {
                unique = id + "-" + k;
            }
            out.add(unique);
        }
        return out;
    }
}
