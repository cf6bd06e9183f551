package io.nemotron.core.tokenizer;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * The id/token tables of a {@code tokenizer.json}: {@code model.vocab} plus {@code added_tokens}.
 * DJL does not expose them, so they are read here. Token strings are in the model's own spelling
 * ({@code "Ġhello"} for byte-level BPE, {@code "▁hello"} / {@code "<0xE2>"} for sentencepiece-style BPE).
 */
final class Vocabulary {
    private static final Pattern BYTE_PIECE = Pattern.compile("<0x[0-9A-F]{2}>");

    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final BitSet special;
    private final BitSet bytePieces;

    private Vocabulary(String[] tokens, Map<String, Integer> ids, BitSet special, BitSet bytePieces) {
        this.tokens = tokens;
        this.ids = ids;
        this.special = special;
        this.bytePieces = bytePieces;
    }

    static Vocabulary fromTokenizerJson(JsonNode root, String source) {
        JsonNode vocab = root.path("model").path("vocab");
        if (!vocab.isObject()) {
            // WordPiece/BPE/WordLevel keep a token->id object; Unigram's list form is not used by Llama models.
            throw new TokenizerException(source + ": model.vocab must be an object of token -> id");
        }
        Map<String, Integer> ids = new HashMap<>(vocab.size() * 2);
        for (var entry : vocab.properties()) {
            ids.put(entry.getKey(), entry.getValue().asInt());
        }
        BitSet special = new BitSet();
        for (JsonNode added : root.path("added_tokens")) {
            int id = added.path("id").asInt(-1);
            String content = added.path("content").asString(null);
            if (id < 0 || content == null) {
                throw new TokenizerException(source + ": added_tokens entry without id/content: " + added);
            }
            ids.put(content, id);
            if (added.path("special").asBoolean(false)) {
                special.set(id);
            }
        }
        int size = 0;
        for (int id : ids.values()) {
            if (id < 0) {
                throw new TokenizerException(source + ": negative token id " + id);
            }
            size = Math.max(size, id + 1);
        }
        String[] tokens = new String[size];
        ids.forEach((token, id) -> tokens[id] = token);
        BitSet bytePieces = new BitSet();
        if (root.path("model").path("byte_fallback").asBoolean(false)) {
            for (int id = 0; id < size; id++) {
                if (tokens[id] != null && BYTE_PIECE.matcher(tokens[id]).matches()) {
                    bytePieces.set(id);
                }
            }
        }
        return new Vocabulary(tokens, Map.copyOf(ids), special, bytePieces);
    }

    /** One past the largest id; the model's embedding table may be larger (padded), never smaller. */
    int size() {
        return tokens.length;
    }

    Integer id(String token) {
        return ids.get(token);
    }

    /** The token string of {@code id}, or null for a hole in the id range. */
    String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    boolean isSpecial(int id) {
        return id >= 0 && special.get(id);
    }

    /** A {@code <0xNN>} token of a byte_fallback BPE: its decoder joins a run of them before UTF-8 decoding. */
    boolean isBytePiece(int id) {
        return id >= 0 && bytePieces.get(id);
    }

    int[] specialIds() {
        return special.stream().toArray();
    }
}
