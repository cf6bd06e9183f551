package io.nemotron.service.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** The oracles in ../shared/reference: the build's property, else relative to a worktree's or the main checkout's module. */
public final class SharedReference {
    private SharedReference() {}

    public static Path path(String relative) {
        String prop = System.getProperty("nemotron.reference.dir");
        Path base = prop != null ? Path.of(prop) : Path.of("../../shared/reference");
        if (!Files.isDirectory(base)) {
            base = Path.of("../shared/reference");
        }
        return base.resolve(relative).toAbsolutePath().normalize();
    }
}
