package io.nemotron.core.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * One memory-mapped safetensors file: {@code u64 LE header length | JSON header | data}. The whole file is mapped
 * read-only into the caller's arena, so tensors are slices of the page cache and never copied onto the heap.
 */
final class SafetensorsFile {
    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final MemorySegment data; // the data section only; entry offsets are relative to it
    private final Map<String, SafetensorsEntry> entries;

    private SafetensorsFile(Path path, MemorySegment data, Map<String, SafetensorsEntry> entries) {
        this.path = path;
        this.data = data;
        this.entries = entries;
    }

    /** Maps and validates the file; the mapping lives as long as {@code arena}. */
    static SafetensorsFile open(Path path, Arena arena) {
        String file = path.toString();
        MemorySegment whole;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            // A mapping outlives its channel: it is released when the arena closes.
            whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        } catch (IOException e) {
            throw new WeightsException("cannot map " + file + ": " + e.getMessage(), e);
        }
        long size = whole.byteSize();
        if (size < 8) {
            throw new WeightsException(file + " is not a safetensors file: " + size + " bytes, too short for the header length");
        }
        long headerLength = whole.get(U64_LE, 0);
        // Unsigned: a corrupt prefix may have the top bit set and read as negative.
        if (headerLength < 2 || headerLength > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new WeightsException(file + ": header length " + Long.toUnsignedString(headerLength)
                    + " is not sane (expected 2.." + SafetensorsHeader.MAX_HEADER_BYTES + "): not a safetensors file?");
        }
        if (8 + headerLength > size) {
            throw new WeightsException(file + ": header length " + headerLength + " runs past the end of the file ("
                    + size + " bytes): truncated or not a safetensors file");
        }
        byte[] headerBytes = whole.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
        String header = new String(headerBytes, StandardCharsets.UTF_8);
        long dataStart = 8 + headerLength;
        Map<String, SafetensorsEntry> entries = SafetensorsHeader.parse(header, dataStart, size, file);
        return new SafetensorsFile(path, whole.asSlice(dataStart), entries);
    }

    Path path() {
        return path;
    }

    Map<String, SafetensorsEntry> entries() {
        return entries;
    }

    Tensor tensor(String name) {
        SafetensorsEntry e = entries.get(name);
        if (e == null) {
            throw new WeightsException("no tensor '" + name + "' in " + path);
        }
        return new Tensor(name, e.dtype(), e.shape().clone(), data.asSlice(e.begin(), e.byteSize()));
    }
}
