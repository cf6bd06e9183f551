package io.nemotron.core.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A Hugging Face {@code tokenizer.json} run by DJL's binding of the Rust {@code tokenizers} library, so ids
 * match {@code AutoTokenizer} exactly. Thread-safe: encode and decode only read the native tokenizer.
 *
 * <p>Special-token strings in the text (such as {@code <|start_header_id|>} in a rendered chat prompt) always
 * encode as their single id, as HF does by default. Text from users that must not be able to inject control
 * tokens has to be encoded by the caller piece by piece, not pasted into a template string.
 *
 * <p>{@code truncation} and {@code padding} stanzas of tokenizer.json, and {@code model_max_length}, are
 * ignored: a server must see every token of a prompt and decide itself what is too long.
 */
public final class Tokenizer implements AutoCloseable {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HuggingFaceTokenizer hf;
    private final Vocabulary vocab;
    private final OptionalInt bosId;
    private final OptionalInt eosId;
    private final String source;

    private Tokenizer(HuggingFaceTokenizer hf, Vocabulary vocab, OptionalInt bosId, OptionalInt eosId, String source) {
        this.hf = hf;
        this.vocab = vocab;
        this.bosId = bosId;
        this.eosId = eosId;
        this.source = source;
    }

    /**
     * {@code path} is a model folder holding {@code tokenizer.json} or the tokenizer.json file itself.
     * BOS/EOS come from {@code tokenizer_config.json} beside it (or {@code special_tokens_map.json}) when present.
     */
    public static Tokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException("no tokenizer.json at " + file);
        }
        JsonNode root = readJson(file);
        Vocabulary vocab = Vocabulary.fromTokenizerJson(root, file.toString());
        SpecialTokenNames names = SpecialTokenNames.read(file.toAbsolutePath().getParent());
        OptionalInt bos = resolve(vocab, names.bos(), "bos_token", file);
        OptionalInt eos = resolve(vocab, names.eos(), "eos_token", file);
        return new Tokenizer(openNative(file), vocab, bos, eos, file.toString());
    }

    private static HuggingFaceTokenizer openNative(Path file) {
        // Options override whatever tokenizer.json / tokenizer_config.json say about length limits.
        // An InputStream is used so DJL does not look for a tokenizer_config.json of its own beside the file.
        Map<String, String> options = Map.of(
                "truncation", "false",
                "padding", "false",
                "addSpecialTokens", "false");
        try (InputStream in = Files.newInputStream(file)) {
            return HuggingFaceTokenizer.newInstance(in, options);
        } catch (IOException | RuntimeException e) {
            throw new TokenizerException("cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    static JsonNode readJson(Path file) {
        try {
            JsonNode root = JSON.readTree(file.toFile());
            if (root == null || !root.isObject()) {
                throw new TokenizerException(file + ": must hold a JSON object");
            }
            return root;
        } catch (JacksonException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static OptionalInt resolve(Vocabulary vocab, String token, String key, Path file) {
        if (token == null) {
            return OptionalInt.empty();
        }
        Integer id = vocab.id(token);
        if (id == null) {
            throw new TokenizerException(file + ": " + key + " '" + token + "' is not in the vocabulary");
        }
        return OptionalInt.of(id);
    }

    /** Ids of {@code text}; {@code addSpecialTokens} applies the post-processor (BOS for Llama models). */
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = hf.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    /**
     * Text of {@code ids}. Invalid UTF-8 (an unfinished multi-byte character) decodes to U+FFFD, as in HF.
     * No {@code clean_up_tokenization_spaces}: decode(encode(text)) gives back the text exactly.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return decode(ids, 0, ids.length, skipSpecialTokens);
    }

    /** Text of {@code ids[from, to)}; lets the incremental detokenizer decode a window without copying twice. */
    public String decode(int[] ids, int from, int to, boolean skipSpecialTokens) {
        long[] wide = new long[to - from];
        for (int i = from; i < to; i++) {
            int id = ids[i];
            if (id < 0 || id >= vocab.size()) {
                throw new TokenizerException("token id " + id + " is outside the vocabulary [0, " + vocab.size() + ")");
            }
            wide[i - from] = id;
        }
        return hf.decode(wide, skipSpecialTokens);
    }

    /** One past the largest token id of the tokenizer (the model's embedding table may be padded larger). */
    public int vocabSize() {
        return vocab.size();
    }

    /** The id of a token spelled as in the vocabulary ({@code "Ġhello"}, {@code "<|eot_id|>"}), if any. */
    public OptionalInt tokenId(String token) {
        Integer id = vocab.id(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The vocabulary spelling of {@code id}. */
    public String token(int id) {
        String token = vocab.token(id);
        if (token == null) {
            throw new TokenizerException("token id " + id + " is not in the vocabulary of " + source);
        }
        return token;
    }

    public OptionalInt bosTokenId() {
        return bosId;
    }

    public OptionalInt eosTokenId() {
        return eosId;
    }

    /** True for {@code added_tokens} marked special (BOS, EOS, header and reserved tokens). */
    public boolean isSpecial(int id) {
        return vocab.isSpecial(id);
    }

    /**
     * True for the {@code <0xNN>} tokens of a byte-fallback BPE (Llama-2 style). The decoder turns a whole run of
     * them into U+FFFD when the run is not valid UTF-8, so a run's text is only final once the run ends.
     */
    public boolean isBytePiece(int id) {
        return vocab.isBytePiece(id);
    }

    /** All special ids, ascending. */
    public int[] specialTokenIds() {
        return vocab.specialIds();
    }

    @Override
    public void close() {
        hf.close();
    }

    @Override
    public String toString() {
        return "Tokenizer[" + source + ", vocab " + vocab.size() + "]";
    }
}
