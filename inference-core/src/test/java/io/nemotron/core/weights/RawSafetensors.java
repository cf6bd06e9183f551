package io.nemotron.core.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Byte-level safetensors access written for the tests, independent of the reader and writer under test: builds
 * files from a literal header (to craft corrupt ones) and reads headers and raw bytes back with plain NIO.
 */
final class RawSafetensors {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private RawSafetensors() {}

    /** Writes {@code u64 LE length | header | data} with an explicit length (which may lie). */
    static Path write(Path file, long declaredHeaderLength, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(declaredHeaderLength).put(h).put(data);
        Files.write(file, buf.array());
        return file;
    }

    static Path write(Path file, String header, byte[] data) throws IOException {
        return write(file, header.getBytes(StandardCharsets.UTF_8).length, header, data);
    }

    static long headerLength(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        return ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    static JsonNode header(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int n = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return JSON.readTree(new String(bytes, 8, n, StandardCharsets.UTF_8));
    }

    /** The raw bytes of one tensor, located through the header alone. */
    static byte[] tensorBytes(Path file, String name) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int n = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonNode offsets = JSON.readTree(new String(bytes, 8, n, StandardCharsets.UTF_8)).get(name).get("data_offsets");
        int begin = 8 + n + offsets.get(0).asInt();
        int end = 8 + n + offsets.get(1).asInt();
        return java.util.Arrays.copyOfRange(bytes, begin, end);
    }
}
