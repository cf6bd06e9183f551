package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.LinearScales;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * An F8_E4M3 weight matrix re-laid for {@link MatMulF8}, as {@link PackedBF16} is for BF16: rows in blocks of
 * {@link #BLOCK} (one float vector), and within a block, column quad q of all its rows next to each other as one int
 * per row (column 4q in the int's low byte up to 4q+3 in its high byte, little-endian): [block][quad][row in block].
 * One vector load then holds four columns of BLOCK rows, so a vector lane is an output row and the dot products need
 * no horizontal sums. The last block is padded with zero rows and the last quad with zero columns (code 0, +0.0).
 * The codes are the checkpoint's, unchanged; the weight's {@link LinearScales} are kept.
 *
 * <p>Built once per weight (the backend caches it) in an automatic arena readable from the pool's threads; it costs
 * the FP8 weight's size again, as the BF16 copy does.
 */
final class PackedF8 {
    static final int BLOCK = FloatVector.SPECIES_PREFERRED.length();
    /**
     * The version of this layout in the weight cache's key ({@link CachedLayout}): bump it with any change to how the
     * bytes are laid out, or caches written before the change would be read with the new layout.
     */
    static final int LAYOUT_VERSION = 1;
    // safetensors are little-endian; so is the packed copy (MatMulF8 loads it LE)
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final String name;
    final MemorySegment data;
    final int rows;
    final int cols;
    final int blocks;
    final int quads;
    final LinearScales scales;

    PackedF8(String name, MemorySegment data, int rows, int cols, LinearScales scales) {
        this.name = name;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.blocks = (rows + BLOCK - 1) / BLOCK;
        this.quads = (cols + 3) / 4;
        this.scales = scales;
    }

    static PackedF8 of(Tensor weight) {
        if (weight.dtype() != DType.F8_E4M3 || weight.shape().length != 2) {
            throw new IllegalArgumentException("packing needs a 2-D F8_E4M3 weight, " + weight.name() + " is "
                    + weight.dtype() + " " + weight.shapeString());
        }
        LinearScales scales = weight.requireScales();
        int rows = weight.rows();
        int cols = weight.cols();
        int blocks = (rows + BLOCK - 1) / BLOCK;
        int quads = (cols + 3) / 4;
        MemorySegment src = weight.data();
        MemorySegment dst = Arena.ofAuto().allocate((long) blocks * quads * BLOCK * Integer.BYTES, 64);
        long step = (long) BLOCK * Integer.BYTES;
        int full = cols / 4;
        for (int r = 0; r < rows; r++) {
            long from = (long) r * cols;
            long to = ((long) (r / BLOCK) * quads * BLOCK + r % BLOCK) * Integer.BYTES;
            for (int q = 0; q < full; q++) {
                dst.set(INT, to + q * step, src.get(INT, from + 4L * q));   // little-endian: column 4q low
            }
            if (full < quads) {
                int last = 0;
                for (int c = 4 * full; c < cols; c++) {
                    last |= (src.get(ValueLayout.JAVA_BYTE, from + c) & 0xFF) << (8 * (c - 4 * full));
                }
                dst.set(INT, to + full * step, last);
            }
        }
        return new PackedF8(weight.name(), dst, rows, cols, scales);
    }

    /** Columns the kernel reads per token: cols rounded up to the quad (the activations' row stride). */
    int paddedCols() {
        return 4 * quads;
    }

    /** Bytes of one block of rows. */
    long blockBytes() {
        return (long) quads * BLOCK * Integer.BYTES;
    }
}
