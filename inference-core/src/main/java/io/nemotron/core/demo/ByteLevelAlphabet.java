package io.nemotron.core.demo;

import java.nio.charset.StandardCharsets;

/**
 * The byte-to-character mapping of a byte-level BPE (GPT-2 / Llama-3, and what the {@code ByteLevel}
 * pre-tokenizer and decoder of HF tokenizers apply): printable Latin-1 bytes stand for themselves, every other
 * byte for a code point from 256 up, so each of the 256 bytes is one visible, whitespace-free character and a
 * merge can be written as {@code "left right"}.
 */
final class ByteLevelAlphabet {
    private static final char[] BYTE_TO_CHAR = build();

    private ByteLevelAlphabet() {}

    private static char[] build() {
        char[] map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = (char) (printable ? b : next++);
        }
        return map;
    }

    /** The one-character token of byte {@code b} (0..255). */
    static String token(int b) {
        return String.valueOf(BYTE_TO_CHAR[b & 0xFF]);
    }

    /** {@code text}'s UTF-8 bytes, each as its token: how the trainer sees a word before any merge. */
    static String[] symbols(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        String[] out = new String[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = token(bytes[i]);
        }
        return out;
    }
}
