package io.nemotron.core.chat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The prompt-related part of a checkpoint's {@code tokenizer_config.json}: its chat templates by name
 * ({@code chat_template} is a string, stored here as "default", or a list of {@code {"name","template"}}), and
 * the bos/eos strings (plain strings or AddedToken objects {@code {"content": ...}}); null when absent.
 * A {@code chat_template.jinja} file beside it wins over the JSON field, as in recent transformers.
 */
public record TokenizerConfig(Map<String, String> chatTemplates, String bosToken, String eosToken) {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    public TokenizerConfig {
        chatTemplates = Map.copyOf(chatTemplates);
    }

    /** Reads the files of a model folder; a folder without them yields an empty config. */
    public static TokenizerConfig load(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new PromptException("model folder not found: " + modelDir);
        }
        Path file = modelDir.resolve("tokenizer_config.json");
        TokenizerConfig config = Files.isRegularFile(file) ? parse(read(file), file.toString())
                : new TokenizerConfig(Map.of(), null, null);
        Path jinja = modelDir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            Map<String, String> templates = new LinkedHashMap<>(config.chatTemplates());
            templates.put("default", read(jinja));
            config = new TokenizerConfig(templates, config.bosToken(), config.eosToken());
        }
        return config;
    }

    public static TokenizerConfig parse(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new PromptException(source + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new PromptException(source + ": must be a JSON object");
        }
        return new TokenizerConfig(templates(root.get("chat_template"), source),
                token(root.get("bos_token"), source + ": bos_token"), token(root.get("eos_token"), source + ": eos_token"));
    }

    private static Map<String, String> templates(JsonNode node, String source) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (node.isString()) {
            out.put("default", node.asString());
            return out;
        }
        if (!node.isArray()) {
            throw new PromptException(source + ": chat_template must be a string or a list of {name, template}");
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode entry = node.get(i);
            if (!entry.path("name").isString() || !entry.path("template").isString()) {
                throw new PromptException(source + ": chat_template[" + i + "] needs string fields name and template");
            }
            out.put(entry.get("name").asString(), entry.get("template").asString());
        }
        return out;
    }

    private static String token(JsonNode node, String what) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isString()) {
            return node.asString();
        }
        if (node.isObject() && node.path("content").isString()) {
            return node.get("content").asString();
        }
        throw new PromptException(what + " must be a string or an object with a string \"content\"");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new PromptException("cannot read " + file + ": " + e.getMessage());
        }
    }
}
