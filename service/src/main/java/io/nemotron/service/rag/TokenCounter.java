package io.nemotron.service.rag;

import io.nemotron.core.tokenizer.Tokenizer;

/** Exact token count of a piece of prompt text, without special tokens (BOS) added. */
@FunctionalInterface
public interface TokenCounter {

    int count(String text);

    static TokenCounter of(Tokenizer tokenizer) {
        return text -> text.isEmpty() ? 0 : tokenizer.encode(text, false).length;
    }
}
