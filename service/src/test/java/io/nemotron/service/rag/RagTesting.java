package io.nemotron.service.rag;

import io.nemotron.core.tokenizer.Tokenizer;
import java.nio.file.Path;

/** The real Llama-3.1 tokenizer from shared/reference, loaded once for all RAG tests. */
final class RagTesting {

    private static Tokenizer llama;

    private RagTesting() {}

    static synchronized Tokenizer llama() {
        if (llama == null) {
            llama = Tokenizer.load(reference("llama-3.1-tokenizer"));
        }
        return llama;
    }

    static TokenCounter llamaCounter() {
        return TokenCounter.of(llama());
    }

    /** An independent count for assertions: the tokenizer itself, not the assembler's counter. */
    static int recount(String text) {
        return text.isEmpty() ? 0 : llama().encode(text, false).length;
    }

    static Path reference(String relative) {
        return io.nemotron.service.testing.SharedReference.path(relative);
    }
}
