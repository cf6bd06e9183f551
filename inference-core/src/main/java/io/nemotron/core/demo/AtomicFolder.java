package io.nemotron.core.demo;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Publishes a folder so that readers see either nothing (or a stale copy they will not use) or the complete folder:
 * it is written under a temporary name beside the target and renamed into place. Writers are serialised by a lock
 * file in the parent (across processes) and a JVM-wide monitor (a JVM cannot take the same file lock twice); the
 * second of two processes starting at once waits, then finds the first one's folder complete and reuses it.
 */
final class AtomicFolder {
    private static final String TEMP_PREFIX = ".tmp-";
    private static final Object JVM_LOCK = new Object();

    /** Fills a fresh folder; it must write its completion marker last. */
    interface Writer {
        void write(Path dir) throws IOException;
    }

    private AtomicFolder() {}

    /** Returns {@code target}, writing it with {@code writer} unless {@code complete} already accepts it. */
    static Path publish(Path target, Predicate<Path> complete, Writer writer) throws IOException {
        if (complete.test(target)) {
            return target;
        }
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        synchronized (JVM_LOCK) {
            try (FileChannel lockFile = FileChannel.open(parent.resolve(".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockFile.lock()) {
                if (complete.test(target)) {
                    return target; // another process wrote it while we waited for the lock
                }
                // holding the lock, any temporary folder is a leftover of a writer that died mid-way
                deleteLeftovers(parent);
                Path temp = Files.createTempDirectory(parent, TEMP_PREFIX);
                try {
                    writer.write(temp);
                    if (Files.exists(target)) {
                        // incomplete or of another version; nobody reads it (readers check completeness first)
                        Path stale = Files.createTempDirectory(parent, TEMP_PREFIX);
                        Files.move(target, stale.resolve("old"), StandardCopyOption.ATOMIC_MOVE);
                        deleteTree(stale);
                    }
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    deleteTree(temp);
                }
            }
        }
        if (!complete.test(target)) {
            throw new IOException(target + " is still incomplete after writing it");
        }
        return target;
    }

    private static void deleteLeftovers(Path parent) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, TEMP_PREFIX + "*")) {
            for (Path p : entries) {
                deleteTree(p);
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
