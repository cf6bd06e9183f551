package io.nemotron.core.testing;

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

    public static JsonNode json(String relative) {
        try {
            return JSON.readTree(Files.readString(path(relative)));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
