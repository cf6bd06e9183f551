package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * A BF16 weight matrix re-laid for {@link MatMulBF16}: rows in blocks of {@link #BLOCK} (one float vector), and
 * within a block, column pair j of all its rows next to each other as one int per row (column 2j in the low half,
 * 2j+1 in the high half): [block][pair][row in block]. One vector load then holds a column pair of BLOCK rows, so
 * a vector lane is an output row and the dot products need no horizontal reduction; the last block is padded with
 * zero rows and an odd last column with a zero high half.
 *
 * <p>Built once per weight (the backend caches it); the copy lives in an automatic arena readable from the pool's
 * threads, and costs the weight's size again in memory. With a {@link WeightCache} the layout is written once into the
 * cache file ({@link #packInto}) and read from its mapping ({@link #over}) instead: one copy, no packing at start.
 */
final class PackedBF16 {
    static final int BLOCK = FloatVector.SPECIES_PREFERRED.length();
    /**
     * The version of this layout in the weight cache's key ({@link CachedLayout}): bump it with any change to how the
     * bytes are laid out, or caches written before the change would be read with the new layout.
     */
    static final int LAYOUT_VERSION = 1;
    // safetensors are little-endian; so is the packed copy (MatMulBF16 loads it LE)
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final String name;
    final MemorySegment data;
    final int rows;
    final int cols;
    final int blocks;
    final int pairs;

    private PackedBF16(String name, MemorySegment data, int rows, int cols) {
        this.name = name;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.blocks = (rows + BLOCK - 1) / BLOCK;
        this.pairs = (cols + 1) / 2;
    }

    static PackedBF16 of(Tensor weight) {
        requirePackable(weight);
        MemorySegment dst = Arena.ofAuto().allocate(bytes(weight.rows(), weight.cols()), 64);
        packInto(weight, dst);
        return new PackedBF16(weight.name(), dst, weight.rows(), weight.cols());
    }

    /**
     * A packed matrix whose bytes already are in this layout (a weight cache file's mapping, written by
     * {@link #packInto}); {@code data} must be exactly {@link #bytes} long.
     */
    static PackedBF16 over(String name, MemorySegment data, int rows, int cols) {
        long expected = bytes(rows, cols);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("packed " + name + " [" + rows + ", " + cols + "] needs " + expected
                    + " bytes with " + BLOCK + " lanes, got " + data.byteSize());
        }
        return new PackedBF16(name, data, rows, cols);
    }

    /** Bytes of the packed layout of a [rows, cols] matrix on this machine (the last block padded to BLOCK rows). */
    static long bytes(int rows, int cols) {
        long blocks = (rows + BLOCK - 1) / BLOCK;
        long pairs = (cols + 1) / 2;
        return blocks * pairs * BLOCK * Integer.BYTES;
    }

    static void requirePackable(Tensor weight) {
        if (weight.dtype() != DType.BF16 || weight.shape().length != 2) {
            throw new IllegalArgumentException("packing needs a 2-D BF16 weight, " + weight.name() + " is "
                    + weight.dtype() + " " + weight.shapeString());
        }
    }

    /** Writes {@code weight} packed into {@code dst} ({@link #bytes} long); every byte of it, padding included. */
    static void packInto(Tensor weight, MemorySegment dst) {
        requirePackable(weight);
        int rows = weight.rows();
        int cols = weight.cols();
        int blocks = (rows + BLOCK - 1) / BLOCK;
        int pairs = (cols + 1) / 2;
        MemorySegment src = weight.data();
        // padding rows of the last block must be zero (the kernel multiplies them); a fresh file or arena is zeroed,
        // but a reused mapping need not be
        long paddedFrom = ((long) (rows / BLOCK) * pairs * BLOCK) * Integer.BYTES;
        if (rows % BLOCK != 0) {
            dst.asSlice(paddedFrom).fill((byte) 0);
        }
        for (int r = 0; r < rows; r++) {
            long from = (long) r * cols * 2;
            long to = ((long) (r / BLOCK) * pairs * BLOCK + r % BLOCK) * Integer.BYTES;
            long step = (long) BLOCK * Integer.BYTES;
            int full = cols / 2;
            for (int j = 0; j < full; j++) {
                dst.set(INT, to + j * step, src.get(INT, from + 4L * j));   // little-endian: 2j low, 2j+1 high
            }
            if ((cols & 1) != 0) {
                dst.set(INT, to + full * step, src.get(SHORT, from + 4L * full) & 0xFFFF);
            }
        }
    }

    /**
     * Widens row {@code row} to FP32 into {@code out[off..off+cols)}: the embedding's row gather when the cache holds
     * the (tied) embedding only in this layout. Exact: BF16 to FP32 is a shift.
     */
    void readRow(int row, float[] out, int off) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row " + row + " of " + name + " [" + rows + ", " + cols + "]");
        }
        long base = ((long) (row / BLOCK) * pairs * BLOCK + row % BLOCK) * Integer.BYTES;
        long step = (long) BLOCK * Integer.BYTES;
        for (int j = 0; j < pairs; j++) {
            int pair = data.get(INT, base + j * step);
            out[off + 2 * j] = Float.intBitsToFloat(pair << 16);
            if (2 * j + 1 < cols) {
                out[off + 2 * j + 1] = Float.intBitsToFloat(pair & 0xFFFF0000);
            }
        }
    }

    /** Bytes of one block of rows. */
    long blockBytes() {
        return (long) pairs * BLOCK * Integer.BYTES;
    }
}
