package io.nemotron.service.rag;

/**
 * A span {@code [start, end)} of document {@code doc}'s text, the {@code index}-th chunk of that document.
 * {@code tokens} is the token count of the span; {@code freshTokens} the count of the part after the previous
 * chunk's end (what the chunk adds when it is merged behind its predecessor), equal to {@code tokens} for the
 * first chunk.
 */
record Chunk(int doc, int index, int start, int end, String text, int tokens, int freshTokens) {}
