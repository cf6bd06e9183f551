package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.SafetensorsReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cache safety (issue 19, must-show 3) with real processes, each a fresh JVM that loads the model through the cache
 * ({@link WeightCacheProbe}). Oracle: the uncached load's logits, computed in this process, bit for bit; the
 * rebuild's WARN is read from the child's stderr.
 */
class WeightCacheProcessTest {
    private static final String CACHE = "cpu-weights-tp1-rank0.bin";

    @TempDir
    Path tmp;

    record Run(String logits, String log) {
        boolean warned() {
            return log.lines().anyMatch(l -> l.contains("WARN") && l.contains("weight cache rebuilt"));
        }
    }

    @Test
    void aTruncatedCacheIsRebuiltWithAWarning() throws Exception {
        Path model = WeightCacheFixtures.write(tmp.resolve("m"), true, DType.BF16, 11);
        String oracle = WeightCacheProbe.logitBits(model, WeightCacheOptions.OFF);
        Path fallback = tmp.resolve("fallback");
        Run first = run(model, fallback);
        WeightCacheProbe.assertSameBits(oracle, first.logits(), first.log());
        assertFalse(first.warned(), first.log());
        Path cache = model.resolve(WeightCache.BESIDE_FOLDER).resolve(CACHE);
        try (RandomAccessFile f = new RandomAccessFile(cache.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        Run second = run(model, fallback);
        WeightCacheProbe.assertSameBits(oracle, second.logits(), second.log());
        assertTrue(second.warned() && second.log().contains("truncated"), second.log());
        Run third = run(model, fallback);
        WeightCacheProbe.assertSameBits(oracle, third.logits(), third.log());
        assertFalse(third.warned(), "the rebuilt cache is whole: " + third.log());
    }

    @Test
    void aCacheWhoseTensorBytesChangedFailsItsChecksumAndIsRebuilt() throws Exception {
        Path model = WeightCacheFixtures.write(tmp.resolve("m"), false, DType.F8_E4M3, 11);
        String oracle = WeightCacheProbe.logitBits(model, WeightCacheOptions.OFF);
        Path fallback = tmp.resolve("fallback");
        Run first = run(model, fallback);
        WeightCacheProbe.assertSameBits(oracle, first.logits(), first.log());
        Path cache = model.resolve(WeightCache.BESIDE_FOLDER).resolve(CACHE);
        try (RandomAccessFile f = new RandomAccessFile(cache.toFile(), "rw")) {
            long at = WeightCacheFile.DATA_START + 100;   // inside the first tensor; length and header untouched
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
        Run second = run(model, fallback);
        WeightCacheProbe.assertSameBits(oracle, second.logits(), second.log());
        assertTrue(second.warned() && second.log().contains("fails its checksum"), second.log());
    }

    @Test
    void aCacheFromAnotherCheckpointOfTheSameSizeIsRebuiltWithAWarning() throws Exception {
        Path a = WeightCacheFixtures.write(tmp.resolve("a"), false, DType.BF16, 1);
        Path b = WeightCacheFixtures.write(tmp.resolve("b"), false, DType.BF16, 2);   // same shapes, other values
        Path fallback = tmp.resolve("fallback");
        Run builtForA = run(a, fallback);
        WeightCacheProbe.assertSameBits(WeightCacheProbe.logitBits(a, WeightCacheOptions.OFF), builtForA.logits(), builtForA.log());
        Path fa = a.resolve(SafetensorsReader.SINGLE_FILE);
        Path fb = b.resolve(SafetensorsReader.SINGLE_FILE);
        assertEquals(Files.size(fa), Files.size(fb));
        Files.setLastModifiedTime(fb, Files.getLastModifiedTime(fa));
        Files.createDirectories(b.resolve(WeightCache.BESIDE_FOLDER));
        Files.copy(a.resolve(WeightCache.BESIDE_FOLDER).resolve(CACHE), b.resolve(WeightCache.BESIDE_FOLDER).resolve(CACHE),
                StandardCopyOption.COPY_ATTRIBUTES);
        String oracle = WeightCacheProbe.logitBits(b, WeightCacheOptions.OFF);
        Run run = run(b, fallback);
        WeightCacheProbe.assertSameBits(oracle, run.logits(), run.log());
        assertTrue(run.warned() && run.log().contains("stale"), run.log());
    }

    @Test
    void twoProcessesStartingAtOnceBothGetTheRightNumbers() throws Exception {
        Path model = WeightCacheFixtures.write(tmp.resolve("m"), true, DType.BF16, 5);
        String oracle = WeightCacheProbe.logitBits(model, WeightCacheOptions.OFF);
        Path fallback = tmp.resolve("fallback");
        for (int round = 0; round < 3; round++) {
            Files.deleteIfExists(model.resolve(WeightCache.BESIDE_FOLDER).resolve(CACHE));
            Process p1 = start(model, fallback);
            Process p2 = start(model, fallback);
            Run r1 = finish(p1);
            Run r2 = finish(p2);
            WeightCacheProbe.assertSameBits(oracle, r1.logits(), r1.log());
            WeightCacheProbe.assertSameBits(oracle, r2.logits(), r2.log());
            try (Stream<Path> files = Files.list(model.resolve(WeightCache.BESIDE_FOLDER))) {
                assertEquals(List.of(CACHE), files.map(f -> f.getFileName().toString()).toList(),
                        "one cache file and no temporaries left");
            }
        }
        Run after = run(model, fallback);
        WeightCacheProbe.assertSameBits(oracle, after.logits(), after.log());
        assertFalse(after.warned(), after.log());
    }

    @Test
    void aReadOnlyModelFolderFallsBackToTheCacheFolder() throws Exception {
        Path model = WeightCacheFixtures.write(tmp.resolve("m"), true, DType.BF16, 3);
        String oracle = WeightCacheProbe.logitBits(model, WeightCacheOptions.OFF);
        Files.setPosixFilePermissions(model, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            Path fallback = tmp.resolve("fallback");
            Run first = run(model, fallback);
            Run second = run(model, fallback);
            WeightCacheProbe.assertSameBits(oracle, first.logits(), first.log());
            WeightCacheProbe.assertSameBits(oracle, second.logits(), second.log());
            assertFalse(Files.exists(model.resolve(WeightCache.BESIDE_FOLDER)), "nothing written in the model folder");
            Path cache = WeightCache.fallbackFolder(model, fallback).resolve(CACHE);
            assertTrue(Files.isRegularFile(cache), "cache in the fallback folder");
            assertTrue(second.log().contains("weight cache " + cache + " mapped"), second.log());
        } finally {
            Files.setPosixFilePermissions(model, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private static Run run(Path model, Path fallback) throws Exception {
        return finish(start(model, fallback));
    }

    private static Process start(Path model, Path fallback) throws IOException {
        return new ProcessBuilder(WeightCacheProbe.command(model, fallback)).start();
    }

    private static Run finish(Process p) throws Exception {
        // both pipes drained concurrently: a child blocked on a full stderr pipe would never exit
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe finished");
        String log = err.get();
        assertEquals(0, p.exitValue(), log);
        return new Run(out.strip(), log);
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
