package io.nemotron.service.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Points {@code --model demo} at a fresh folder for each test ({@code nemotron.cache.dir}), so that CLI tests write
 * the demo checkpoint there and never into the user's cache. Use with {@code @RegisterExtension}.
 */
final class DemoCacheDir implements BeforeEachCallback, AfterEachCallback {
    private static final String PROPERTY = "nemotron.cache.dir";
    private Path dir;

    Path dir() {
        return dir;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("nemotron-demo-cache");
        System.setProperty(PROPERTY, dir.toString());
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        System.clearProperty(PROPERTY);
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
