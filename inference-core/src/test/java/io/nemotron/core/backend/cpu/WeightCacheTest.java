package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.SafetensorsReader;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The weight cache in one process. Oracle: the same checkpoint loaded without a cache (BF16 packed in memory, FP8
 * copied to native memory, as before the cache existed), in the same test, bit for bit.
 */
class WeightCacheTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} tied={1}")
    @CsvSource({"BF16,true", "BF16,false", "F8_E4M3,false", "F32,false", "F16,true"})
    void buildingAndMappingGiveTheUncachedLogitsBitForBit(DType dtype, boolean tied) throws IOException {
        Path model = WeightCacheFixtures.write(tmp.resolve("m"), tied, dtype, 7);
        String uncached = WeightCacheProbe.logitBits(model, WeightCacheOptions.OFF);
        Path fallback = tmp.resolve("fallback");
        String built = WeightCacheProbe.logitBits(model, WeightCacheOptions.on(fallback));
        Path file = model.resolve(WeightCache.BESIDE_FOLDER).resolve("cpu-weights-tp1-rank0.bin");
        assertTrue(Files.isRegularFile(file), "a writable model folder holds its cache beside the checkpoint");
        assertFalse(Files.exists(fallback), "the fallback folder is for read-only model folders only");
        FileTime builtAt = Files.getLastModifiedTime(file);
        String mapped = WeightCacheProbe.logitBits(model, WeightCacheOptions.on(fallback));
        assertEquals(builtAt, Files.getLastModifiedTime(file), "a current cache is mapped, not rebuilt");
        WeightCacheProbe.assertSameBits(uncached, built, "built");
        WeightCacheProbe.assertSameBits(uncached, mapped, "mapped");
    }

    @Test
    void theCacheHoldsOneCopyOfATiedEmbedding() throws IOException {
        Path model = WeightCacheFixtures.write(tmp.resolve("m"), true, DType.BF16, 7);
        try (SafetensorsReader source = SafetensorsReader.open(model);
             CachedWeights cache = WeightCache.open(model, source, true, 0, 1, WeightCacheOptions.on(tmp), b -> { })) {
            var embed = cache.tensor("model.embed_tokens.weight");
            assertEquals(0, embed.data().byteSize(), "packed only: no row-major copy beside it");
            assertEquals(PackedBF16.bytes(253, 48), cache.packed(embed).data.byteSize());
        }
    }

    @Test
    void buildProgressAddsUpToTheCheckpointsTensorBytes() {
        Path model = WeightCacheFixtures.write(tmp.resolve("m"), false, DType.BF16, 7);
        long[] seen = {0};
        try (SafetensorsReader source = SafetensorsReader.open(model);
             CachedWeights cache = WeightCache.open(model, source, false, 0, 1, WeightCacheOptions.on(tmp),
                     b -> seen[0] += b)) {
            long expected = 0;
            for (String name : source.names()) {
                expected += source.tensor(name).data().byteSize();
            }
            assertEquals(expected, seen[0]);
        }
    }

    @Test
    void theKeyTellsApartTwoCheckpointsOfTheSameSizeAndMtime() throws IOException {
        Path a = WeightCacheFixtures.write(tmp.resolve("a"), false, DType.BF16, 1);
        Path b = WeightCacheFixtures.write(tmp.resolve("b"), false, DType.BF16, 2);
        Path fa = a.resolve(SafetensorsReader.SINGLE_FILE);
        Path fb = b.resolve(SafetensorsReader.SINGLE_FILE);
        Files.setLastModifiedTime(fb, Files.getLastModifiedTime(fa));
        assertEquals(Files.size(fa), Files.size(fb));
        String da = WeightCacheKey.of(a, 0, 1).get(SafetensorsReader.SINGLE_FILE);
        String db = WeightCacheKey.of(b, 0, 1).get(SafetensorsReader.SINGLE_FILE);
        // same size, mtime and header: only the data sample (and the inode/ctime) can differ
        assertEquals(field(da, "size"), field(db, "size"));
        assertEquals(field(da, "mtime"), field(db, "mtime"));
        assertEquals(field(da, "header_sha256"), field(db, "header_sha256"));
        assertNotEquals(field(da, "data_sample_sha256"), field(db, "data_sample_sha256"));
    }

    @Test
    void keyNamesTheVectorWidthAndLayoutVersions() {
        Path a = WeightCacheFixtures.write(tmp.resolve("a"), false, DType.BF16, 1);
        Map<String, String> key = WeightCacheKey.of(a, 0, 1);
        assertEquals(Integer.toString(PackedBF16.BLOCK), key.get("bf16_block_lanes"));
        assertEquals("1", key.get("layout.BF16_PACKED"));
        assertEquals("0/1", key.get("tensor_parallel"));
    }

    @Test
    void aSharedReadOnlyReferenceFolderIsNeverWrittenAndFallsBack() throws IOException {
        Path fallback = tmp.resolve("fallback");
        for (Path ref : new Path[] {Reference.stories(), Reference.tinyBf16()}) {
            assertFalse(WeightCache.writable(ref), ref + ": mode 555 (the shared reference) is read-only, even for root");
            String uncached = WeightCacheProbe.logitBits(ref, WeightCacheOptions.OFF);
            WeightCacheProbe.assertSameBits(uncached, WeightCacheProbe.logitBits(ref, WeightCacheOptions.on(fallback)), ref + " built");
            WeightCacheProbe.assertSameBits(uncached, WeightCacheProbe.logitBits(ref, WeightCacheOptions.on(fallback)), ref + " mapped");
            assertFalse(Files.exists(ref.resolve(WeightCache.BESIDE_FOLDER)));
        }
        try (Stream<Path> files = Files.walk(fallback)) {
            assertEquals(2, files.filter(p -> p.toString().endsWith(".bin")).count(), "one cache per model");
        }
    }

    private static String field(String description, String name) {
        for (String part : description.split(" ")) {
            if (part.startsWith(name + "=")) {
                return part;
            }
        }
        throw new AssertionError(name + " not in " + description);
    }

    /**
     * A build removes a killed build's temporary, even one named by pid 1 (a container restarted in its pod: the new
     * JVM is pid 1 too), and keeps one that a live build holds locked.
     */
    @Test
    void aBuildRemovesAbandonedTemporariesAndKeepsLockedOnes() throws IOException {
        Path model = WeightCacheFixtures.write(tmp.resolve("m"), false, DType.BF16, 7);
        Path folder = model.resolve(WeightCache.BESIDE_FOLDER);
        Files.createDirectories(folder);
        String prefix = "cpu-weights-tp1-rank0.bin" + WeightCacheWriter.TEMP_MARK;
        Path abandoned = folder.resolve(prefix + "1-5f3a");
        Files.write(abandoned, new byte[4096]);
        Path live = folder.resolve(prefix + "live");
        try (FileChannel ch = FileChannel.open(live, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             FileLock lock = ch.lock();
             SafetensorsReader source = SafetensorsReader.open(model);
             CachedWeights cache = WeightCache.open(model, source, false, 0, 1, WeightCacheOptions.on(tmp), b -> { })) {
            assertTrue(Files.isRegularFile(folder.resolve("cpu-weights-tp1-rank0.bin")));
            assertFalse(Files.exists(abandoned), "an unlocked temporary is a dead build's");
            assertTrue(Files.exists(live), "a locked temporary is a live build's");
        }
    }
}
