package io.nemotron.service.bench;

import io.nemotron.core.demo.DemoTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A benchmark checkpoint (random weights, no tokenizer) made servable: a folder of links to its files plus the demo
 * byte-level tokenizer (2,048 ids, all inside the benchmark shapes' 32,000-row vocabulary), so the server maps the
 * very same weight files and the checkpoint is not copied.
 */
public final class ServableCheckpoint {
    private ServableCheckpoint() {}

    public static Path of(Path checkpoint, Path servedDir) {
        try {
            Files.createDirectories(servedDir);
            try (Stream<Path> files = Files.list(checkpoint)) {
                for (Path f : files.toList()) {
                    Path link = servedDir.resolve(f.getFileName());
                    Files.deleteIfExists(link);
                    Files.createSymbolicLink(link, f.toAbsolutePath());
                }
            }
            Files.deleteIfExists(servedDir.resolve("tokenizer.json"));
            Files.deleteIfExists(servedDir.resolve("tokenizer_config.json"));
            DemoTokenizer.write(servedDir);
            return servedDir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + servedDir + " for serving: " + e.getMessage(), e);
        }
    }
}
