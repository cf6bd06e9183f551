package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every corrupt file is refused when the reader opens, with a message naming the file and, where there is one, the tensor. */
class SafetensorsCorruptTest {
    @TempDir
    Path dir;

    private WeightsException refused(Path file) {
        return assertThrows(WeightsException.class, () -> SafetensorsReader.open(file).close());
    }

    private static void assertNames(WeightsException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should contain '" + part + "': " + e.getMessage());
        }
    }

    private Path file(String header, int dataBytes) throws IOException {
        return RawSafetensors.write(dir.resolve("model.safetensors"), header, new byte[dataBytes]);
    }

    @Test
    void tooShortForTheLengthPrefix() throws IOException {
        Path f = Files.write(dir.resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertNames(refused(f), f.toString(), "too short");
    }

    @Test
    void insaneHeaderLength() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("model.safetensors"), 1L << 40, "{}      ", new byte[0]);
        assertNames(refused(f), f.toString(), "header length 1099511627776");
    }

    @Test
    void negativeHeaderLengthReadsAsUnsigned() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("model.safetensors"), -8, "{}      ", new byte[0]);
        assertNames(refused(f), f.toString(), "18446744073709551608");
    }

    @Test
    void headerLongerThanTheFile() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("model.safetensors"), 4096, "{}      ", new byte[0]);
        assertNames(refused(f), f.toString(), "header length 4096", "past the end");
    }

    @Test
    void invalidHeaderJson() throws IOException {
        assertNames(refused(file("{\"w\": {\"dtype\": \"F32\",", 0)), "model.safetensors", "not valid JSON");
    }

    @Test
    void headerNotAnObject() throws IOException {
        assertNames(refused(file("[1, 2]  ", 0)), "model.safetensors", "JSON object");
    }

    @ParameterizedTest
    @ValueSource(strings = {"F8_E5M2", "I64", "F64", "BOOL"})
    void unknownDtype(String dtype) throws IOException {
        Path f = file("{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
        assertEquals("unknown/unsupported dtype '" + dtype + "' for tensor 'w' in " + f + " (supported: F32, BF16, F16, F8_E4M3)",
                refused(f).getMessage());
    }

    @Test
    void truncatedFile() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}";
        Path f = file(header, 20); // the last tensor needs 24 data bytes, only 20 are there
        long headerLength = header.length();
        assertEquals(f + " is truncated: tensor 'w' ends at byte " + (8 + headerLength + 24) + " but the file has "
                + (8 + headerLength + 20), refused(f).getMessage());
    }

    @Test
    void overlappingTensors() throws IOException {
        Path f = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertNames(refused(f), f.toString(), "'b'", "overlap", "'a'");
    }

    @Test
    void offsetsOutOfOrder() throws IOException {
        Path f = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8);
        assertNames(refused(f), f.toString(), "'w'", "out of order");
    }

    @Test
    void byteCountDisagreesWithShape() throws IOException {
        Path f = file("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16);
        assertNames(refused(f), f.toString(), "'w'", "16 bytes", "needs 8");
    }

    @Test
    void negativeShape() throws IOException {
        Path f = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,8]}}", 8);
        assertNames(refused(f), f.toString(), "'w'", "shape");
    }

    @Test
    void malformedOffsets() throws IOException {
        Path f = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8);
        assertNames(refused(f), f.toString(), "'w'", "data_offsets");
    }

    @Test
    void metadataIsIgnored() throws IOException {
        Path f = file("{\"__metadata__\":{\"format\":\"pt\",\"anything\":\"x\"},"
                + "\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}}", 6);
        try (var r = SafetensorsReader.open(f)) {
            assertEquals(java.util.Set.of("w"), r.names());
        }
    }

    // ---- sharded checkpoints ----

    private Path shard(String name, String tensor) throws IOException {
        return RawSafetensors.write(dir.resolve(name), "{\"" + tensor + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                new byte[4]);
    }

    private Path index(String weightMap) throws IOException {
        return Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":8},\"weight_map\":" + weightMap + "}");
    }

    @Test
    void shardedCheckpointLoads() throws IOException {
        shard("model-00001-of-00002.safetensors", "a");
        shard("model-00002-of-00002.safetensors", "b");
        index("{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}");
        try (var r = SafetensorsReader.open(dir)) {
            assertEquals(java.util.Set.of("a", "b"), r.names());
            assertEquals(dir.resolve("model-00002-of-00002.safetensors").toString(), r.locationOf("b"));
        }
    }

    @Test
    void indexPointsAtAMissingShard() throws IOException {
        shard("model-00001-of-00002.safetensors", "a");
        Path idx = index("{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}");
        assertNames(refused(dir), idx.toString(), "'b'", "model-00002-of-00002.safetensors", "does not exist");
    }

    @Test
    void indexListsATensorItsShardLacks() throws IOException {
        shard("model-00001-of-00001.safetensors", "a");
        index("{\"a\":\"model-00001-of-00001.safetensors\",\"z\":\"model-00001-of-00001.safetensors\"}");
        assertNames(refused(dir), "'z'", "model-00001-of-00001.safetensors", "no such tensor");
    }

    @Test
    void shardHoldsATensorTheIndexDoesNotList() throws IOException {
        shard("model-00001-of-00002.safetensors", "a");
        shard("model-00002-of-00002.safetensors", "b");
        index("{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\"}");
        // b is mapped to shard 1, which lacks it
        assertNames(refused(dir), "'b'", "model-00001-of-00002.safetensors");
        index("{\"a\":\"model-00001-of-00002.safetensors\"}");
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\"}}");
        shard("model-00001-of-00002.safetensors", "a");
        // shard 1 rewritten with two tensors, only one listed
        RawSafetensors.write(dir.resolve("model-00001-of-00002.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                new byte[8]);
        assertNames(refused(dir), "'x'", "model-00001-of-00002.safetensors", "not mapped");
    }

    @Test
    void corruptShardIsNamed() throws IOException {
        Path bad = RawSafetensors.write(dir.resolve("model-00001-of-00001.safetensors"),
                "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]);
        index("{\"a\":\"model-00001-of-00001.safetensors\"}");
        assertNames(refused(dir), "unknown/unsupported dtype 'I64'", "'a'", bad.toString());
    }

    @Test
    void indexWithoutWeightMap() throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\":{}}");
        assertNames(refused(dir), "model.safetensors.index.json", "weight_map");
    }

    @Test
    void shardOutsideTheFolderIsRefused() throws IOException {
        index("{\"a\":\"../elsewhere.safetensors\"}");
        assertNames(refused(dir), "'a'", "../elsewhere.safetensors");
    }
}
