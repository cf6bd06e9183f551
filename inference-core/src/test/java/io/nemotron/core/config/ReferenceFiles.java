package io.nemotron.core.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the read-only oracles in {@code ../shared/reference} (surefire sets {@code nemotron.reference.dir}). */
public final class ReferenceFiles {
    private ReferenceFiles() {}

    public static Path dir() {
        Path dir = Path.of(System.getProperty("nemotron.reference.dir", "../shared/reference"));
        if (!Files.isDirectory(dir)) {
            dir = Path.of("../../shared/reference"); // running from a module folder without surefire's property
        }
        assertTrue(Files.isDirectory(dir), "reference data not found at " + dir.toAbsolutePath());
        return dir;
    }

    public static Path resolve(String relative) {
        Path p = dir().resolve(relative);
        assertTrue(Files.exists(p), "missing reference file " + p);
        return p;
    }

    public static Path ultraConfig() {
        return resolve("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json");
    }

    public static Path tinyF32() {
        return resolve("nemotron-nas-tiny/nas-tiny-a-f32");
    }

    public static Path tinyBf16() {
        return resolve("nemotron-nas-tiny/nas-tiny-a-bf16");
    }

    public static Path stories() {
        return resolve("stories260k/hf");
    }
}
