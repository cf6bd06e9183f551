package io.nemotron.core.backend.cpu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What a weight cache was built from, as named fields (so a mismatch can say which one differs): every checkpoint
 * file's size, mtime, ctime and inode, a SHA-256 of each safetensors header and of a sample of its data, a SHA-256 of
 * the JSON files that shape the model, the cache format and layout versions, the vector width the BF16 layout was
 * packed for, and the tensor-parallel rank.
 *
 * <p>NOTE: size + mtime + header alone cannot tell two checkpoints of the same shapes apart (the header holds only names,
 * shapes and offsets); ctime and inode change whenever a file is replaced or copied (a user cannot set them), and the
 * data sample catches a different checkpoint even where they would not.
 */
final class WeightCacheKey {
    /** Samples of the data section hashed per safetensors file: enough to tell two random or trained fills apart. */
    static final int SAMPLES = 16;
    static final int SAMPLE_BYTES = 4096;
    private static final List<String> MODEL_JSON = List.of("config.json", "hf_quant_config.json",
            "model.safetensors.index.json");

    private WeightCacheKey() {}

    static Map<String, String> of(Path dir, int rank, int ranks) {
        Map<String, String> key = new LinkedHashMap<>();
        key.put("format", Integer.toString(WeightCacheFile.FORMAT_VERSION));
        for (CachedLayout layout : CachedLayout.values()) {
            key.put("layout." + layout.name(), Integer.toString(layout.version));
        }
        key.put("bf16_block_lanes", Integer.toString(PackedBF16.BLOCK));
        key.put("fp8_block_lanes", Integer.toString(PackedF8.BLOCK));
        key.put("tensor_parallel", rank + "/" + ranks);
        try {
            for (String name : MODEL_JSON) {
                Path f = dir.resolve(name);
                if (Files.isRegularFile(f)) {
                    key.put(name, sha256(Files.readAllBytes(f)));
                }
            }
            List<Path> shards;
            try (Stream<Path> files = Files.list(dir)) {
                shards = files.filter(f -> f.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            }
            for (Path shard : shards) {
                key.put(shard.getFileName().toString(), describe(shard));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read the checkpoint in " + dir + " to key its weight cache: "
                    + e.getMessage(), e);
        }
        return key;
    }

    private static String describe(Path shard) throws IOException {
        BasicFileAttributes basic = Files.readAttributes(shard, BasicFileAttributes.class);
        StringBuilder s = new StringBuilder();
        s.append("size=").append(basic.size());
        s.append(" mtime=").append(basic.lastModifiedTime().toInstant());
        Object ctime = unix(shard, "ctime");
        Object inode = unix(shard, "ino");
        s.append(" ctime=").append(ctime == null ? "?" : ctime.toString());
        s.append(" inode=").append(inode == null ? "?" : inode.toString());
        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long headerLength = size >= 8 ? len.getLong(0) : 0;
            if (headerLength < 0 || 8 + headerLength > size || headerLength > Integer.MAX_VALUE) {
                headerLength = 0;   // the reader refuses such a file with its own message; the key needs no more
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(ch, header, 8);
            s.append(" header_sha256=").append(sha256(header.array()));
            MessageDigest sample = digest();
            long dataStart = 8 + headerLength;
            long dataBytes = size - dataStart;
            ByteBuffer buf = ByteBuffer.allocate(SAMPLE_BYTES);
            for (int i = 0; i < SAMPLES && dataBytes > 0; i++) {
                long at = dataStart + (dataBytes - Math.min(SAMPLE_BYTES, dataBytes)) * i / Math.max(1, SAMPLES - 1);
                buf.clear().limit((int) Math.min(SAMPLE_BYTES, dataBytes));
                readFully(ch, buf, at);
                sample.update(buf.array(), 0, buf.limit());
            }
            s.append(" data_sample_sha256=").append(HexFormat.of().formatHex(sample.digest()));
        }
        return s.toString();
    }

    private static Object unix(Path f, String attribute) {
        try {
            return Files.getAttribute(f, "unix:" + attribute);
        } catch (UnsupportedOperationException | IllegalArgumentException | IOException e) {
            return null;   // not a unix file system: size, mtime and the hashes remain
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
        long pos = at;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                break;
            }
            pos += n;
        }
        buf.flip();
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
