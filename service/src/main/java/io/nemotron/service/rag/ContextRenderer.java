package io.nemotron.service.rag;

import java.util.List;

/**
 * Renders selected chunks as the context block that opens the user turn. Order is request order (document
 * position, then chunk index), never relevance, so requests with the same documents and budget share a prompt
 * prefix. Adjacent chunks of one document render as one span (their overlap once); non-adjacent spans of a
 * document are joined by {@link #GAP} under one citation header.
 *
 * <pre>
 * Use the following documents to answer. Cite them by id in square brackets, like [id].
 *
 * &lt;documents&gt;
 * [doc-a] Title A
 * text of A
 *
 * [doc-b]
 * text of B
 * [...]
 * later text of B
 * &lt;/documents&gt;
 *
 * </pre>
 */
final class ContextRenderer {

    static final String OPEN = "Use the following documents to answer. Cite them by id in square brackets, like [id]."
            + "\n\n<documents>\n";
    static final String CLOSE = "</documents>\n\n";
    static final String GAP = "\n[...]\n";
    static final String DOC_END = "\n";
    static final String DOC_SEPARATOR = "\n";

    private ContextRenderer() {}

    static String header(String citationId, String title) {
        String t = title == null ? "" : title.strip().replaceAll("\\s+", " ");
        return "[" + citationId + "]" + (t.isEmpty() ? "" : " " + t) + "\n";
    }

    /** The context block, or "" when nothing is selected. {@code chunks} are in request order. */
    static String render(List<String> headers, List<String> texts, List<Chunk> chunks, boolean[] selected) {
        StringBuilder sb = new StringBuilder(OPEN);
        int doc = -1;
        Chunk spanFirst = null;
        Chunk spanLast = null;
        for (int i = 0; i < chunks.size(); i++) {
            if (!selected[i]) {
                continue;
            }
            Chunk c = chunks.get(i);
            if (spanLast != null && c.doc() == spanLast.doc() && c.index() == spanLast.index() + 1) {
                spanLast = c;
                continue;
            }
            if (spanLast != null) {
                sb.append(texts.get(spanLast.doc()), spanFirst.start(), spanLast.end());
            }
            if (c.doc() != doc) {
                if (doc >= 0) {
                    sb.append(DOC_END).append(DOC_SEPARATOR);
                }
                doc = c.doc();
                sb.append(headers.get(doc));
            } else {
                sb.append(GAP);
            }
            spanFirst = c;
            spanLast = c;
        }
        if (spanLast == null) {
            return "";
        }
        sb.append(texts.get(spanLast.doc()), spanFirst.start(), spanLast.end());
        return sb.append(DOC_END).append(CLOSE).toString();
    }
}
