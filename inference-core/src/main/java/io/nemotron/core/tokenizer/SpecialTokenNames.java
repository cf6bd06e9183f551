package io.nemotron.core.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;

/**
 * BOS/EOS token strings of a model folder. {@code tokenizer_config.json} wins over {@code special_tokens_map.json}
 * as in transformers; either may write a token as a string or as an AddedToken object {@code {"content": ...}}.
 */
record SpecialTokenNames(String bos, String eos) {

    static SpecialTokenNames read(Path folder) {
        String bos = null;
        String eos = null;
        for (String name : new String[] {"tokenizer_config.json", "special_tokens_map.json"}) {
            Path file = folder == null ? null : folder.resolve(name);
            if (file == null || !Files.isRegularFile(file)) {
                continue;
            }
            JsonNode root = Tokenizer.readJson(file);
            bos = bos != null ? bos : tokenText(root.get("bos_token"), file, "bos_token");
            eos = eos != null ? eos : tokenText(root.get("eos_token"), file, "eos_token");
        }
        return new SpecialTokenNames(bos, eos);
    }

    private static String tokenText(JsonNode node, Path file, String key) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isString()) {
            return node.asString();
        }
        if (node.isObject() && node.path("content").isString()) {
            return node.path("content").asString();
        }
        throw new TokenizerException(file + ": " + key + " must be a string or {\"content\": ...}, got " + node);
    }
}
