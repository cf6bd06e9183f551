package io.nemotron.core.chat;

/** A retrieval document for RAG; {@code id} and {@code title} may be null. */
public record ChatDocument(String id, String title, String text) {}
