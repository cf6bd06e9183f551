package io.nemotron.service.rag;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dense similarity of passages to a question: cosine of all-MiniLM-L6-v2 sentence embeddings (ONNX Runtime,
 * in-process). The model loads on first use, once, and is shared by all requests (ONNX Runtime sessions are
 * thread-safe). When it cannot load or fails, {@link #scores} is empty and the assembler ranks by BM25 alone:
 * a missing dense signal never fails a request.
 */
public final class EmbeddingRanker {

    private static final Logger log = LoggerFactory.getLogger(EmbeddingRanker.class);

    private static final EmbeddingRanker SHARED =
            new EmbeddingRanker(() -> new AllMiniLmL6V2EmbeddingModel(Runnable::run));

    private final Supplier<EmbeddingModel> loader;
    private volatile EmbeddingModel model;
    private volatile boolean unavailable;

    /** {@code loader} runs at most once, on first use; the built-in model embeds on the calling thread. */
    public EmbeddingRanker(Supplier<EmbeddingModel> loader) {
        this.loader = loader;
    }

    /** The process-wide all-MiniLM-L6-v2 ranker. */
    public static EmbeddingRanker shared() {
        return SHARED;
    }

    /** A ranker without a model: BM25 alone. */
    public static EmbeddingRanker disabled() {
        EmbeddingRanker r = new EmbeddingRanker(() -> null);
        r.unavailable = true;
        return r;
    }

    /** Loads the model now (e.g. at startup, off the request path); false when it is unavailable. */
    public boolean warmUp() {
        return model() != null;
    }

    /** Cosine similarity of each passage to the question, or empty when the model is unavailable. */
    Optional<double[]> scores(String question, List<String> passages) {
        if (passages.isEmpty() || question.isBlank()) {
            return Optional.empty();
        }
        EmbeddingModel m = model();
        if (m == null) {
            return Optional.empty();
        }
        try {
            List<TextSegment> segments = new ArrayList<>(passages.size() + 1);
            segments.add(TextSegment.from(question));
            for (String p : passages) {
                segments.add(TextSegment.from(p.isBlank() ? "." : p));
            }
            List<Embedding> embeddings = m.embedAll(segments).content();
            float[] q = embeddings.getFirst().vector();
            double[] out = new double[passages.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = cosine(q, embeddings.get(i + 1).vector());
            }
            return Optional.of(out);
        } catch (RuntimeException e) {
            log.warn("RAG dense ranking failed, ranking by BM25 alone for this request: {}", e.toString());
            return Optional.empty();
        }
    }

    private EmbeddingModel model() {
        EmbeddingModel m = model;
        if (m != null || unavailable) {
            return m;
        }
        synchronized (this) {
            if (model == null && !unavailable) {
                try {
                    model = loader.get();
                    if (model == null) {
                        unavailable = true;
                    }
                } catch (RuntimeException | LinkageError e) { // static init of the ONNX model throws Errors
                    unavailable = true;
                    log.warn("RAG embedding model all-MiniLM-L6-v2 failed to load; ranking by BM25 alone: {}",
                            e.toString());
                }
            }
            return model;
        }
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
