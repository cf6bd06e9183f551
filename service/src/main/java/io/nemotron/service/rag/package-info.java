/**
 * The RAG context assembler: request documents in, a token-budgeted context block with citation ids out.
 *
 * <pre>
 * RagAssembler rag = new RagAssembler(TokenCounter.of(tokenizer));           // one per model, thread-safe
 * RagContext ctx = rag.assemble(RagDocument.of(chatRequest.documents()),     // or map proto Document, with score
 *                               lastUserMessageText, budgetTokens);
 * String userContent = ctx.userTurn(lastUserMessageText);                    // replaces that message's content
 * </pre>
 *
 * {@code budgetTokens} bounds {@link io.nemotron.service.rag.RagContext#text()}: context length minus max tokens
 * minus the rest of the prompt (everything but that text), or a smaller configured limit.
 * {@link io.nemotron.service.rag.EmbeddingRanker#warmUp()} may be called at startup so the first request does not
 * pay the embedding model's load (about 3 s).
 */
package io.nemotron.service.rag;
