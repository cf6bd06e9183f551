package io.nemotron.service.cli;

import io.nemotron.core.demo.DemoModel;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves the {@code --model} flag: a checkpoint folder, or {@code demo} (the embedded random-weight model). */
final class ModelPaths {
    private ModelPaths() {}

    static Path resolve(String model) {
        if (model.equals("demo")) {
            Path dir = DemoModel.ensure(DemoModel.defaultCacheDir());
            // said every time: output of random weights must never be mistaken for a model's answer
            System.err.println("--model demo: " + dir + " has RANDOM weights; its output is meaningless");
            return dir;
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
