package io.nemotron.core.chat;

/**
 * A retrieval document of a chat request.
 *
 * @param score the client's retriever score (higher is better), null when it sent none
 */
public record ChatDocument(String id, String title, String text, Double score) {
    public ChatDocument {
        if (score != null && !Double.isFinite(score)) {
            throw new ChatRequestException("score: must be a finite number, got " + score);
        }
    }

    public ChatDocument(String id, String title, String text) {
        this(id, title, text, null);
    }
}
