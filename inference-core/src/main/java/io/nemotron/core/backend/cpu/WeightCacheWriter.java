package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.Tensor;
import io.nemotron.core.weights.WeightSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes a weight cache file: every tensor of a checkpoint in the layout the CPU backend reads
 * ({@link CachedLayout}), streamed through one reusable native buffer (so the build holds one chunk beside the
 * mappings, not a second copy of the model), into a temporary file in the target's folder that is then renamed over
 * the target atomically. Readers therefore see the old file, the new one, or none, never a partial one; two processes
 * building at once both finish, and the last rename wins with an equal file.
 */
final class WeightCacheWriter {
    /** Bytes packed per write: big enough for sequential I/O, small beside any model worth caching. */
    static final long CHUNK_BYTES = 32L << 20;
    static final String TEMP_MARK = ".tmp-";
    /** Temporaries this JVM is writing now (two loaders in one process may build at once). */
    private static final Set<Path> WRITING = ConcurrentHashMap.newKeySet();
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private WeightCacheWriter() {}

    /**
     * Builds {@code target} from {@code source}; {@code progress} receives the source bytes of each chunk as it is
     * written (they add up to the checkpoint's tensor bytes).
     */
    static void write(Path target, Map<String, String> key, WeightSource source, boolean tiedEmbeddings,
                      LongConsumer progress) throws IOException {
        Path dir = target.getParent();
        Files.createDirectories(dir);
        removeAbandonedTemps(target);
        // a name unique to this build, not a pid: in a container every JVM is pid 1, and hosts sharing a volume
        // see each other's pids as dead; the lock below is what says a temporary is live
        Path temp = dir.resolve(target.getFileName() + TEMP_MARK + UUID.randomUUID());
        WRITING.add(temp);
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             FileLock lock = ch.lock()) {
            writeFile(ch, key, source, tiedEmbeddings, progress);
            // NOTE: ATOMIC_MOVE is rename(2): it replaces an existing target in one step on POSIX file systems; it
            // runs while the lock is held, so no cleaner can take the temporary between the last write and here
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            WRITING.remove(temp);
            Files.deleteIfExists(temp);
        }
    }

    private static void writeFile(FileChannel ch, Map<String, String> key, WeightSource source, boolean tiedEmbeddings,
                                  LongConsumer progress) throws IOException {
        List<Tensor> tensors = new ArrayList<>();
        for (String name : source.names()) {
            tensors.add(source.tensor(name));
        }
        List<Map<String, Object>> entries = new ArrayList<>();
        long offset = WeightCacheFile.DATA_START;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(CHUNK_BYTES + PackedBF16.bytes(PackedBF16.BLOCK, 1 << 20), 64);
            for (Tensor t : tensors) {
                CachedLayout layout = CachedLayout.of(t, tiedEmbeddings);
                offset = WeightCacheFile.align(offset);
                long bytes = layout.bytes(t);
                int crc = writeTensor(ch, offset, t, layout, buffer, progress);
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("name", t.name());
                e.put("layout", layout.name());
                e.put("dtype", t.dtype().safetensorsName());
                e.put("shape", t.shape());
                e.put("offset", offset);
                e.put("bytes", bytes);
                e.put("crc32c", Integer.toUnsignedString(crc));
                entries.add(e);
                offset += bytes;
            }
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("key", key);
            header.put("tensors", entries);
            long headerOffset = offset;
            // file_bytes depends on the header's own length: write it with a fixed-width number
            header.put("file_bytes", "%020d".formatted(0));
            byte[] draft = JSON.writeValueAsBytes(header);
            long fileBytes = headerOffset + draft.length;
            header.put("file_bytes", "%020d".formatted(fileBytes));
            byte[] json = JSON.writeValueAsBytes(header);
            if (json.length != draft.length) {
                throw new IllegalStateException("weight cache header changed length while being finished");
            }
            writeFully(ch, ByteBuffer.wrap(json), headerOffset);
            ByteBuffer prefix = ByteBuffer.allocate((int) WeightCacheFile.DATA_START).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            prefix.put(WeightCacheFile.MAGIC);
            prefix.putInt(WeightCacheFile.FORMAT_VERSION);
            prefix.putInt(WeightCacheFile.crc32c(json));
            prefix.putLong(headerOffset);
            prefix.putLong(json.length);
            prefix.clear();
            writeFully(ch, prefix, 0);
            ch.force(true);   // on disk before the rename publishes it: a crash leaves the old file or the new, whole
        }
    }

    /** Writes {@code t} at {@code offset} chunk by chunk; returns the CRC32C of its bytes in the file. */
    private static int writeTensor(FileChannel ch, long offset, Tensor t, CachedLayout layout, MemorySegment buffer,
                                   LongConsumer progress) throws IOException {
        CRC32C crc = new CRC32C();
        int rows = t.shape().length == 2 ? t.rows() : 1;
        int step = layout.rowsPerChunk(t, CHUNK_BYTES);
        long at = offset;
        for (int from = 0; from < rows; from += step) {
            int to = Math.min(rows, from + step);
            long n = layout.chunkBytes(t, from, to);
            MemorySegment chunk = n <= buffer.byteSize() ? buffer.asSlice(0, n) : null;
            if (chunk == null) {
                // a single row wider than the buffer (a huge 1-D tensor): copy it in place through its own arena
                try (Arena big = Arena.ofConfined()) {
                    chunk = big.allocate(n, 64);
                    at = put(ch, at, t, layout, from, to, chunk, crc);
                }
            } else {
                at = put(ch, at, t, layout, from, to, chunk, crc);
            }
            progress.accept(t.shape().length == 2 ? (long) (to - from) * t.cols() * t.dtype().bytes() : t.data().byteSize());
        }
        return (int) crc.getValue();
    }

    private static long put(FileChannel ch, long at, Tensor t, CachedLayout layout, int from, int to,
                            MemorySegment chunk, CRC32C crc) throws IOException {
        layout.write(t, from, to, chunk);
        crc.update(chunk.asByteBuffer());
        writeFully(ch, chunk.asByteBuffer(), at);
        return at + chunk.byteSize();
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
        long pos = at;
        while (buf.hasRemaining()) {
            pos += ch.write(buf, pos);
        }
    }

    /**
     * Deletes temporaries of {@code target} that no build holds locked (their writer died mid-build); a live build,
     * in this process or another, holds its temporary's lock until the rename. This JVM's own builds are skipped
     * without opening their files: closing any descriptor of a file drops the process's POSIX locks on it.
     */
    private static void removeAbandonedTemps(Path target) {
        String prefix = target.getFileName() + TEMP_MARK;
        try (Stream<Path> files = Files.list(target.getParent())) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                if (WRITING.contains(f)) {
                    continue;
                }
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE); FileLock lock = ch.tryLock()) {
                    if (lock != null) {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException | OverlappingFileLockException e) {
                    // gone already, or not ours to judge: leave it
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // best effort: a leftover temporary wastes disk, it never feeds a reader
        }
    }
}
