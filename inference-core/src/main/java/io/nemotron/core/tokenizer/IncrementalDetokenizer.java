package io.nemotron.core.tokenizer;

import java.util.Arrays;

/**
 * Turns a stream of token ids into text deltas for streaming, one sequence per instance (not thread-safe).
 *
 * <p>Why not decode each token alone: a multi-byte character may be split over tokens (byte-fallback
 * {@code <0xE2>} pieces, or byte-level BPE pieces of an emoji), and sentencepiece decoders drop the leading
 * space of the first token. So, as in HF TGI and vLLM, each step decodes a short window of recent ids twice:
 * {@code [prefixOffset, readOffset)} (text already emitted) and {@code [prefixOffset, end)}; the delta is the
 * difference. A delta is held back while the window's text ends in U+FFFD (an unfinished character), and the
 * window then slides forward. Cost per token is two decodes of a window of a few ids, not of the sequence.
 *
 * <p>Invariant: the concatenation of all deltas and {@link #flush()} equals {@code decode(all ids)} of the
 * generated ids (plus the context, for {@link #withContext}, minus the context's own text).
 */
public final class IncrementalDetokenizer {
    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] ids;
    private int size;
    // ids[prefixOffset, readOffset) were decoded and emitted; they give the following ids their context.
    private int prefixOffset;
    private int readOffset;

    public IncrementalDetokenizer(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this(tokenizer, skipSpecialTokens, new int[0]);
    }

    /**
     * A detokenizer whose first delta is decoded in the context of the prompt's last ids, so the first
     * generated token keeps its leading space where the decoder would strip it at the start of a text.
     * The context's own text is not emitted.
     */
    public static IncrementalDetokenizer withContext(Tokenizer tokenizer, boolean skipSpecialTokens, int[] promptIds) {
        // 5 ids cover the longest UTF-8 character (4 byte tokens) plus one, as vLLM's INITIAL_INCREMENTAL_DETOKENIZATION_OFFSET.
        int keep = Math.min(5, promptIds.length);
        return new IncrementalDetokenizer(tokenizer, skipSpecialTokens,
                Arrays.copyOfRange(promptIds, promptIds.length - keep, promptIds.length));
    }

    private IncrementalDetokenizer(Tokenizer tokenizer, boolean skipSpecialTokens, int[] context) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
        this.ids = Arrays.copyOf(context, Math.max(16, context.length * 2));
        this.size = context.length;
        this.prefixOffset = 0;
        this.readOffset = context.length;
    }

    /** Adds one id; returns the newly completed text (possibly empty, never a partial character). */
    public String next(int id) {
        append(id);
        String prefixText = tokenizer.decode(ids, prefixOffset, readOffset, skipSpecialTokens);
        String fullText = tokenizer.decode(ids, prefixOffset, size, skipSpecialTokens);
        if (fullText.length() > prefixText.length()
                && fullText.charAt(fullText.length() - 1) != REPLACEMENT
                && !endsInBytePiece()) {
            String delta = fullText.substring(prefixText.length());
            prefixOffset = readOffset;
            readOffset = size;
            compact();
            return delta;
        }
        return "";
    }

    /** Text still held back at the end of the sequence (an unfinished character decodes to U+FFFD, as in decode). */
    public String flush() {
        String prefixText = tokenizer.decode(ids, prefixOffset, readOffset, skipSpecialTokens);
        String fullText = tokenizer.decode(ids, prefixOffset, size, skipSpecialTokens);
        prefixOffset = readOffset = size;
        return fullText.length() > prefixText.length() ? fullText.substring(prefixText.length()) : "";
    }

    // A run of byte-fallback pieces decodes as a whole: one invalid byte later in the run turns the bytes before
    // it into U+FFFD too. So text that ends in such a run waits for the run to end (one token of latency, and
    // only for characters the vocabulary spells byte by byte). Skipped special tokens do not end a run.
    private boolean endsInBytePiece() {
        for (int i = size - 1; i >= prefixOffset; i--) {
            if (!(skipSpecialTokens && tokenizer.isSpecial(ids[i]))) {
                return tokenizer.isBytePiece(ids[i]);
            }
        }
        return false;
    }

    private void append(int id) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = id;
    }

    // Ids before prefixOffset are never read again: drop them so memory stays bounded by the window.
    private void compact() {
        if (prefixOffset > ids.length / 2) {
            System.arraycopy(ids, prefixOffset, ids, 0, size - prefixOffset);
            size -= prefixOffset;
            readOffset -= prefixOffset;
            prefixOffset = 0;
        }
    }
}
