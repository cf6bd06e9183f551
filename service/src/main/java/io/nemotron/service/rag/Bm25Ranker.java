package io.nemotron.service.rag;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.ByteBuffersDirectory;

/**
 * BM25 scores of passages for a question: a throw-away in-memory Lucene index per request (EnglishAnalyzer:
 * stop words, possessives, Porter stemming), the question as an OR of its analyzed terms.
 */
final class Bm25Ranker {

    private static final String BODY = "body";
    private static final String ORD = "ord";

    // NOTE: Lucene analyzers are thread-safe (per-thread token stream reuse), so one is shared by all requests.
    private final Analyzer analyzer = new EnglishAnalyzer();

    /** Score of each passage, 0 where no question term occurs. */
    double[] scores(String question, List<String> passages) {
        double[] scores = new double[passages.size()];
        Set<String> terms = terms(question);
        if (passages.isEmpty() || terms.isEmpty()) {
            return scores;
        }
        try (ByteBuffersDirectory dir = new ByteBuffersDirectory()) {
            IndexWriterConfig config = new IndexWriterConfig(analyzer).setSimilarity(new BM25Similarity());
            try (IndexWriter writer = new IndexWriter(dir, config)) {
                for (int i = 0; i < passages.size(); i++) {
                    Document doc = new Document();
                    doc.add(new StoredField(ORD, i));
                    doc.add(new TextField(BODY, passages.get(i), Field.Store.NO));
                    writer.addDocument(doc);
                }
            }
            BooleanQuery.Builder query = new BooleanQuery.Builder();
            int clauses = 0;
            for (String term : terms) {
                if (clauses++ == IndexSearcher.getMaxClauseCount()) {
                    break;
                }
                query.add(new TermQuery(new Term(BODY, term)), BooleanClause.Occur.SHOULD);
            }
            try (DirectoryReader reader = DirectoryReader.open(dir)) {
                IndexSearcher searcher = new IndexSearcher(reader);
                searcher.setSimilarity(new BM25Similarity());
                searcher.setQueryCache(null); // the index lives for one request
                TopDocs top = searcher.search(query.build(), passages.size());
                StoredFields stored = reader.storedFields();
                for (ScoreDoc hit : top.scoreDocs) {
                    // NOTE: segment merges may reorder Lucene doc ids, hence the stored ordinal
                    int ord = stored.document(hit.doc).getField(ORD).numericValue().intValue();
                    scores[ord] = hit.score;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("in-memory BM25 index failed", e);
        }
        return scores;
    }

    private Set<String> terms(String text) {
        Set<String> terms = new LinkedHashSet<>();
        try (TokenStream stream = analyzer.tokenStream(BODY, text)) {
            CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
            stream.reset();
            while (stream.incrementToken()) {
                terms.add(term.toString());
            }
            stream.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return terms;
    }
}
