package io.nemotron.core.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The weight cache file's layout, shared by its writer and its reader:
 *
 * <pre>
 *   0  8 bytes  magic "NMTRNWC\n"
 *   8  u32 LE   format version
 *  12  u32 LE   CRC32C of the JSON header
 *  16  u64 LE   offset of the JSON header (after the data)
 *  24  u64 LE   length of the JSON header
 *  64  ...      tensors, each at a 64-byte aligned offset (vector loads and the FP8 kernel's alignment)
 *  ..  JSON     {"key": {...}, "file_bytes": N, "tensors": [{name, layout, dtype, shape, offset, bytes, crc32c}]}
 * </pre>
 *
 * The header comes last because it carries every tensor's checksum, known only once the data is written; the file's
 * length must equal {@code file_bytes}, so a truncated file is refused before any tensor is read.
 */
final class WeightCacheFile {
    static final int FORMAT_VERSION = 1;
    static final byte[] MAGIC = "NMTRNWC\n".getBytes(StandardCharsets.US_ASCII);
    static final long DATA_START = 64;
    static final long ALIGN = 64;
    static final int PREFIX_BYTES = 32;
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Bytes checksummed per call: a mapped ByteBuffer view is limited to 2 GiB. */
    private static final long CRC_CHUNK = 1L << 30;

    private WeightCacheFile() {}

    static long align(long offset) {
        return (offset + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** CRC32C of {@code bytes}, which may exceed 2 GiB. */
    static int crc32c(MemorySegment bytes) {
        CRC32C crc = new CRC32C();
        for (long at = 0; at < bytes.byteSize(); at += CRC_CHUNK) {
            crc.update(bytes.asSlice(at, Math.min(CRC_CHUNK, bytes.byteSize() - at)).asByteBuffer());
        }
        return (int) crc.getValue();
    }

    static int crc32c(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }
}
