package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Tensor;
import io.nemotron.core.weights.WeightSource;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Maps a weight cache file and checks, before any tensor is handed out, that it is whole and current: magic, format,
 * header checksum, length, key (field by field), that it holds exactly the source checkpoint's tensors with their
 * dtypes and shapes, every entry inside the file, and (when asked) every tensor's CRC32C.
 */
final class WeightCacheReader {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private WeightCacheReader() {}

    /** The mapped cache, or {@link StaleWeightCache} naming the first thing that is wrong with it. */
    static CachedWeights map(Path file, Map<String, String> key, WeightSource source, boolean tiedEmbeddings,
                             boolean verify) throws StaleWeightCache {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment whole;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (IOException e) {
                throw new StaleWeightCache("cannot map it: " + e.getMessage());
            }
            Map<String, WeightCacheEntry> entries;
            try {
                entries = check(whole, key, source, tiedEmbeddings, verify);
            } catch (NumberFormatException | IndexOutOfBoundsException e) {
                throw new StaleWeightCache("corrupt header: " + e.getMessage());
            }
            return new CachedWeights(file, arena, whole, entries);
        } catch (StaleWeightCache | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, WeightCacheEntry> check(MemorySegment whole, Map<String, String> key,
                                                       WeightSource source, boolean tied, boolean verify)
            throws StaleWeightCache {
        long size = whole.byteSize();
        if (size < WeightCacheFile.DATA_START) {
            throw new StaleWeightCache("truncated: " + size + " bytes, shorter than its fixed header");
        }
        byte[] magic = whole.asSlice(0, WeightCacheFile.MAGIC.length).toArray(ValueLayout.JAVA_BYTE);
        if (!Arrays.equals(magic, WeightCacheFile.MAGIC)) {
            throw new StaleWeightCache("not a weight cache file (bad magic)");
        }
        int format = whole.get(WeightCacheFile.U32, 8);
        if (format != WeightCacheFile.FORMAT_VERSION) {
            throw new StaleWeightCache("format version " + format + ", this build reads " + WeightCacheFile.FORMAT_VERSION);
        }
        int headerCrc = whole.get(WeightCacheFile.U32, 12);
        long headerOffset = whole.get(WeightCacheFile.U64, 16);
        long headerLength = whole.get(WeightCacheFile.U64, 24);
        if (headerOffset < WeightCacheFile.DATA_START || headerLength <= 0 || headerLength > Integer.MAX_VALUE
                || headerOffset + headerLength > size) {
            throw new StaleWeightCache("truncated or corrupt: header at " + headerOffset + " (+" + headerLength
                    + " bytes) is not inside the file's " + size + " bytes");
        }
        byte[] json = whole.asSlice(headerOffset, headerLength).toArray(ValueLayout.JAVA_BYTE);
        if (WeightCacheFile.crc32c(json) != headerCrc) {
            throw new StaleWeightCache("corrupt: header checksum mismatch");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new StaleWeightCache("corrupt header: " + e.getOriginalMessage());
        }
        long fileBytes = Long.parseLong(root.path("file_bytes").asString("-1").trim());
        if (fileBytes != size) {
            throw new StaleWeightCache("truncated or extended: " + size + " bytes, written as " + fileBytes);
        }
        checkKey(root.path("key"), key);
        Map<String, WeightCacheEntry> entries = new LinkedHashMap<>();
        for (JsonNode e : root.path("tensors")) {
            WeightCacheEntry entry = entry(e, size);
            entries.put(entry.name(), entry);
        }
        if (!entries.keySet().equals(source.names())) {
            throw new StaleWeightCache("holds other tensors than the checkpoint (" + entries.size() + " vs "
                    + source.names().size() + ")");
        }
        for (WeightCacheEntry e : entries.values()) {
            Tensor t = source.tensor(e.name());
            if (t.dtype() != e.dtype() || !e.sameShape(t.shape()) || CachedLayout.of(t, tied) != e.layout()
                    || e.layout().bytes(t) != e.bytes()) {
                throw new StaleWeightCache("tensor '" + e.name() + "' is " + e.dtype() + " " + Arrays.toString(e.shape())
                        + " " + e.layout() + " there, " + t.dtype() + " " + t.shapeString() + " in the checkpoint");
            }
        }
        if (verify) {
            for (WeightCacheEntry e : entries.values()) {
                if (WeightCacheFile.crc32c(whole.asSlice(e.offset(), e.bytes())) != e.crc32c()) {
                    throw new StaleWeightCache("corrupt: tensor '" + e.name() + "' fails its checksum");
                }
            }
        }
        return entries;
    }

    private static void checkKey(JsonNode stored, Map<String, String> key) throws StaleWeightCache {
        Map<String, String> was = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> f : stored.properties()) {
            was.put(f.getKey(), f.getValue().asString(""));
        }
        for (Map.Entry<String, String> f : key.entrySet()) {
            String old = was.get(f.getKey());
            if (!f.getValue().equals(old)) {
                throw new StaleWeightCache("stale: " + f.getKey() + " is now '" + f.getValue() + "', the cache was built for '"
                        + (old == null ? "(absent)" : old) + "'");
            }
        }
        for (String k : was.keySet()) {
            if (!key.containsKey(k)) {
                throw new StaleWeightCache("stale: built with " + k + ", which the checkpoint no longer has");
            }
        }
    }

    private static WeightCacheEntry entry(JsonNode e, long fileSize) throws StaleWeightCache {
        String name = e.path("name").asString("");
        CachedLayout layout;
        DType dtype = DType.fromSafetensors(e.path("dtype").asString(""));
        try {
            layout = CachedLayout.valueOf(e.path("layout").asString(""));
        } catch (IllegalArgumentException ex) {
            throw new StaleWeightCache("tensor '" + name + "' has unknown layout " + e.path("layout"));
        }
        JsonNode shapeNode = e.path("shape");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
        }
        long offset = e.path("offset").asLong(-1);
        long bytes = e.path("bytes").asLong(-1);
        long crc = Long.parseLong(e.path("crc32c").asString("-1"));
        if (name.isEmpty() || dtype == null || offset < WeightCacheFile.DATA_START || bytes < 0
                || offset % WeightCacheFile.ALIGN != 0 || offset + bytes > fileSize || crc < 0) {
            throw new StaleWeightCache("corrupt entry for tensor '" + name + "'");
        }
        return new WeightCacheEntry(name, layout, dtype, shape, offset, bytes, (int) crc);
    }
}
