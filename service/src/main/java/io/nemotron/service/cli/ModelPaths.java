package io.nemotron.service.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves the {@code --model} flag: a checkpoint folder (or {@code demo}, which arrives with the server). */
final class ModelPaths {
    private ModelPaths() {}

    static Path resolve(String model) {
        if (model.equals("demo")) {
            throw new IllegalArgumentException("--model demo: the embedded demo model ships with `serve` "
                    + "(engine issue); give a checkpoint folder");
        }
        Path dir = Path.of(model);
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--model " + model + ": no such folder");
        }
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException("--model " + model + ": no config.json in that folder");
        }
        return dir;
    }
}
