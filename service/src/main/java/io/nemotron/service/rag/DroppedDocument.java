package io.nemotron.service.rag;

/** A document none of whose text made it into the context, and why. */
public record DroppedDocument(String id, Reason reason) {

    public enum Reason {
        /** The document has no text. */
        EMPTY,
        /** Every chunk repeats (near-exactly) text of a document earlier in the request, which is cited instead. */
        DUPLICATE,
        /** No chunk fitted the token budget beside better-ranked ones. */
        NO_ROOM
    }
}
