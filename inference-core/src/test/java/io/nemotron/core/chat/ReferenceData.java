package io.nemotron.core.chat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The read-only oracles in shared/reference (surefire passes their folder as nemotron.reference.dir). */
public final class ReferenceData {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ReferenceData() {}

    public static Path dir() {
        String configured = System.getProperty("nemotron.reference.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        // run from a module folder: the repository root is its parent, and shared/ sits beside the repository
        return Path.of("").toAbsolutePath().getParent().resolve("../shared/reference").normalize();
    }

    public static String read(String relative) {
        try {
            return Files.readString(dir().resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode json(String relative) {
        return JSON.readTree(read(relative));
    }
}
