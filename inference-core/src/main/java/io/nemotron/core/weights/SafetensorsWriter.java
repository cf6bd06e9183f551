package io.nemotron.core.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes one safetensors file in the layout Hugging Face's library writes: tensors packed back to back in the given
 * order, the JSON header padded with spaces to a multiple of 8 (so the data section starts 8-byte aligned), and
 * {@code __metadata__ {"format":"pt"}}.
 *
 * <p>Tensor bytes go through read-write mappings of at most {@link #CHUNK_BYTES} at a time, so a multi-gigabyte
 * checkpoint is written without holding it on the heap. The file is written under a temporary name and moved into
 * place at the end, so a crash never leaves a truncated file with the final name.
 */
public final class SafetensorsWriter {
    /** Largest mapping alive at once; a multiple of every dtype's size so chunks split on element boundaries. */
    static final long CHUNK_BYTES = 64L << 20;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private SafetensorsWriter() {}

    /** Writes existing tensors (copies their bytes). */
    public static void writeTensors(Path file, Collection<Tensor> tensors) {
        write(file, tensors.stream().map(PendingTensor::copyOf).toList());
    }

    public static void write(Path file, List<PendingTensor> tensors) {
        write(file, tensors, CHUNK_BYTES);
    }

    /** {@code chunkBytes} is a multiple of 4 (so every dtype splits on element boundaries); tests use small ones. */
    static void write(Path file, List<PendingTensor> tensors, long chunkBytes) {
        if (chunkBytes <= 0 || chunkBytes % 4 != 0) {
            throw new IllegalArgumentException("chunk size must be a positive multiple of 4, got " + chunkBytes);
        }
        byte[] header = header(tensors);
        long dataStart = 8L + header.length;
        long total = dataStart;
        for (PendingTensor t : tensors) {
            total = Math.addExact(total, t.byteSize());
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer prefix = ByteBuffer.allocate((int) dataStart).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(header.length).put(header).flip();
            while (prefix.hasRemaining()) {
                ch.write(prefix);
            }
            if (total > dataStart) {
                // Size the file first: mapping past its end is not allowed on every platform.
                ch.write(ByteBuffer.allocate(1), total - 1);
            }
            long offset = dataStart;
            for (PendingTensor t : tensors) {
                writeData(ch, offset, t, chunkBytes);
                offset += t.byteSize();
            }
            ch.force(false);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new WeightsException("cannot write " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new WeightsException("cannot move " + tmp + " to " + file + ": " + e.getMessage(), e);
        }
    }

    private static void writeData(FileChannel ch, long fileOffset, PendingTensor t, long chunkBytes) throws IOException {
        long bytes = t.byteSize();
        int elementBytes = t.dtype().bytes();
        for (long done = 0; done < bytes; done += chunkBytes) {
            long len = Math.min(chunkBytes, bytes - done);
            // An arena per chunk unmaps it as soon as it is filled, keeping the resident set small; shared, because
            // a fill may spread the chunk over worker threads.
            try (Arena arena = Arena.ofShared()) {
                MemorySegment dst = ch.map(FileChannel.MapMode.READ_WRITE, fileOffset + done, len, arena);
                t.fill().fill(done / elementBytes, dst);
            }
        }
    }

    /** The header bytes, padded with spaces to a multiple of 8. */
    static byte[] header(List<PendingTensor> tensors) {
        ObjectNode root = JSON.createObjectNode();
        root.putObject("__metadata__").put("format", "pt");
        Set<String> seen = new HashSet<>();
        long offset = 0;
        for (PendingTensor t : tensors) {
            if (!seen.add(t.name())) {
                throw new WeightsException("tensor '" + t.name() + "' is written twice");
            }
            ObjectNode entry = root.putObject(t.name());
            entry.put("dtype", t.dtype().safetensorsName());
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long end = offset + t.byteSize();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the original error is the one worth reporting
        }
    }
}
