package io.nemotron.core.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Read-only oracles in ../shared/reference (surefire passes the folder as {@code nemotron.reference.dir}). */
final class ReferenceData {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ReferenceData() {}

    static Path dir() {
        String configured = System.getProperty("nemotron.reference.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        // Run from the module folder (IDE): the project root is its parent, shared/ sits beside the project.
        return Path.of("").toAbsolutePath().getParent().resolve("../shared/reference").normalize();
    }

    static Path llama31Tokenizer() {
        return dir().resolve("llama-3.1-tokenizer");
    }

    static Path storiesTokenizer() {
        return dir().resolve("stories260k/hf");
    }

    static JsonNode json(String relative) {
        try {
            return JSON.readTree(Files.readString(dir().resolve(relative)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
