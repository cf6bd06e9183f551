package io.nemotron.core.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Locates ../shared/reference (the oracles) for tests: system property first, then relative folders. */
public final class Reference {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Reference() {}

    public static Path dir() {
        String prop = System.getProperty("nemotron.reference.dir");
        if (prop != null && Files.isDirectory(Path.of(prop))) {
            return Path.of(prop);
        }
        for (Path p : new Path[] {Path.of("../shared/reference"), Path.of("../../shared/reference")}) {
            if (Files.isDirectory(p)) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("reference data not found: set -Dnemotron.reference.dir or put ../shared beside the clone");
    }

    public static Path path(String relative) {
        return dir().resolve(relative);
    }

    /** {@link #path}, asserting that the file or folder is there. */
    public static Path existing(String relative) {
        Path p = path(relative);
        assertTrue(Files.exists(p), "missing reference file " + p);
        return p;
    }

    public static String readString(String relative) {
        try {
            return Files.readString(path(relative));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static JsonNode json(String relative) {
        return JSON.readTree(readString(relative));
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    // Model configs and checkpoints (asserted to exist).

    public static Path ultraConfig() {
        return existing("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json");
    }

    public static Path tinyF32() {
        return existing("nemotron-nas-tiny/nas-tiny-a-f32");
    }

    public static Path tinyBf16() {
        return existing("nemotron-nas-tiny/nas-tiny-a-bf16");
    }

    public static Path stories() {
        return existing("stories260k/hf");
    }
}
