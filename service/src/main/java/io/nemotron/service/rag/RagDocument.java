package io.nemotron.service.rag;

import io.nemotron.core.chat.ChatDocument;
import java.util.List;

/**
 * One retrieval document of a request: the proto {@code Document} or a {@link ChatDocument}.
 * {@code id} and {@code title} may be null or blank; {@code score} is the client's retriever score (higher is
 * better), null when the client sent none.
 */
public record RagDocument(String id, String title, String text, Double score) {

    public RagDocument {
        text = text == null ? "" : text;
    }

    public static RagDocument of(ChatDocument d) {
        return new RagDocument(d.id(), d.title(), d.text(), d.score());
    }

    public static List<RagDocument> of(List<ChatDocument> documents) {
        return documents.stream().map(RagDocument::of).toList();
    }
}
