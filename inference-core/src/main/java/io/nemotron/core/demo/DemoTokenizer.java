package io.nemotron.core.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The demo model's own Hugging Face tokenizer, generated rather than shipped: a GPT-2 / Llama-3 style byte-level
 * BPE (every byte is a token, so any UTF-8 text round-trips) whose merges are learned from a small English text in
 * this package ({@code corpus.txt}), followed by the Llama-3 special tokens as added special tokens. The
 * post-processor prepends {@code <|begin_of_text|>} when special tokens are requested, as Llama-3's does.
 *
 * <p>Ids: 0..255 bytes, then merges, then {@link #SPECIAL_COUNT} specials in Llama-3.1's order, ending at
 * {@link #VOCAB_SIZE} − 1; the model's {@code vocab_size} is exactly {@link #VOCAB_SIZE}.
 */
public final class DemoTokenizer {
    public static final int VOCAB_SIZE = 2048;
    public static final int SPECIAL_COUNT = 32;
    public static final String BEGIN_OF_TEXT = "<|begin_of_text|>";
    public static final String END_OF_TEXT = "<|end_of_text|>";
    public static final String START_HEADER = "<|start_header_id|>";
    public static final String END_HEADER = "<|end_header_id|>";
    public static final String EOM = "<|eom_id|>";
    public static final String EOT = "<|eot_id|>";
    public static final String PYTHON_TAG = "<|python_tag|>";
    /** Llama-3.1's layout of its first ten specials (reserved slots included), so tooling sees the familiar order. */
    private static final List<String> NAMED = List.of(BEGIN_OF_TEXT, END_OF_TEXT, "<|reserved_special_token_0|>",
            "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
            START_HEADER, END_HEADER, EOM, EOT, PYTHON_TAG);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private DemoTokenizer() {}

    /** Every special token in id order: {@link #id} of the first is {@code VOCAB_SIZE - SPECIAL_COUNT}. */
    public static List<String> specialTokens() {
        List<String> out = new ArrayList<>(NAMED);
        for (int k = 3; out.size() < SPECIAL_COUNT; k++) {
            out.add("<|reserved_special_token_" + k + "|>");
        }
        return out;
    }

    /** The id of a special token, known without training the BPE (the model config needs bos/eos ids). */
    public static int id(String specialToken) {
        int index = specialTokens().indexOf(specialToken);
        if (index < 0) {
            throw new IllegalArgumentException(specialToken + " is not a demo special token");
        }
        return VOCAB_SIZE - SPECIAL_COUNT + index;
    }

    /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir}. */
    public static void write(Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson());
        Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfigJson());
    }

    /** The tokenizer.json text; deterministic (same bytes on every run). */
    public static String tokenizerJson() {
        BpeTrainer.Result bpe = BpeTrainer.train(corpus(), VOCAB_SIZE - SPECIAL_COUNT);
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String token : specialTokens()) {
            added.addObject().put("id", id(token)).put("content", token).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel());
        root.set("post_processor", bosTemplate());
        root.set("decoder", byteLevel());
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode vocab = model.putObject("vocab");
        bpe.vocab().forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        bpe.merges().forEach(merges::add);
        return JSON.writeValueAsString(root);
    }

    /** bos/eos as the Llama-3.1 instruct models name them; no chat template (the built-in format applies). */
    static String tokenizerConfigJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("tokenizer_class", "PreTrainedTokenizerFast");
        root.put("bos_token", BEGIN_OF_TEXT);
        root.put("eos_token", EOT);
        root.put("clean_up_tokenization_spaces", false);
        root.put("model_max_length", DemoShape.CONTEXT);
        root.putArray("model_input_names").add("input_ids").add("attention_mask");
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }

    // GPT-2's split regex inside the Rust library (use_regex), no prefix space: "Hello" stays "Hello"
    private static ObjectNode byteLevel() {
        return JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("trim_offsets", true).put("use_regex", true);
    }

    private static ObjectNode bosTemplate() {
        ObjectNode p = JSON.createObjectNode().put("type", "TemplateProcessing");
        ArrayNode single = p.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", BEGIN_OF_TEXT).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = p.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", BEGIN_OF_TEXT).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", BEGIN_OF_TEXT).put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode bos = p.putObject("special_tokens").putObject(BEGIN_OF_TEXT);
        bos.put("id", BEGIN_OF_TEXT);
        bos.putArray("ids").add(id(BEGIN_OF_TEXT));
        bos.putArray("tokens").add(BEGIN_OF_TEXT);
        return p;
    }

    private static String corpus() {
        try (InputStream in = DemoTokenizer.class.getResourceAsStream("corpus.txt")) {
            if (in == null) {
                throw new IllegalStateException("corpus.txt is missing from the io.nemotron.core.demo package");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
