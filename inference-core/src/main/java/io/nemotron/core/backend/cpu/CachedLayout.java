package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.LinearScales;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * How one tensor is laid out in a weight cache file: the layout the CPU backend reads at run time. Each kind has an
 * id and a version in the file's header; a kernel change that needs a different layout bumps its version, and every
 * cache written before is rebuilt instead of misread.
 */
enum CachedLayout {
    /** The checkpoint's bytes as they are: norms, scales, F32/F16 tensors, an untied embedding. */
    RAW(1),
    /** {@link PackedBF16}'s lane=row blocks; the block width ({@link PackedBF16#BLOCK}) is part of the cache key. */
    BF16_PACKED(PackedBF16.LAYOUT_VERSION),
    /** {@link PackedF8}'s lane=row blocks of four E4M3 codes; same block width as BF16 (part of the key). */
    FP8_PACKED(PackedF8.LAYOUT_VERSION);

    private static final LinearScales LAYOUT_ONLY = new LinearScales(1f, 1f);

    final int version;

    CachedLayout(int version) {
        this.version = version;
    }

    /**
     * The layout the backend reads {@code t} in. A BF16 matrix is multiplied, so packed; the embedding only when tied
     * (it is then the lm_head too, and its rows are gathered from the packed copy: one copy, not two).
     */
    static CachedLayout of(Tensor t, boolean tiedEmbeddings) {
        boolean matrix = t.shape().length == 2;
        boolean embedding = t.name().equals("model.embed_tokens.weight");
        if (matrix && t.dtype() == DType.BF16 && (!embedding || tiedEmbeddings)) {
            return BF16_PACKED;
        }
        if (matrix && t.dtype() == DType.F8_E4M3 && !embedding) {
            return FP8_PACKED;
        }
        return RAW;
    }

    /** Bytes of {@code t} in this layout. */
    long bytes(Tensor t) {
        return switch (this) {
            case BF16_PACKED -> PackedBF16.bytes(t.rows(), t.cols());
            case FP8_PACKED -> fp8Bytes(t.rows(), t.cols());
            case RAW -> t.data().byteSize();
        };
    }

    /** Bytes of {@link PackedF8}'s layout of a [rows, cols] matrix: blocks of BLOCK rows, quads of four columns. */
    static long fp8Bytes(int rows, int cols) {
        long blocks = (rows + PackedF8.BLOCK - 1) / PackedF8.BLOCK;
        long quads = (cols + 3) / 4;
        return blocks * quads * PackedF8.BLOCK * Integer.BYTES;
    }

    /**
     * Source rows per chunk when the writer streams {@code t} through a buffer of about {@code chunkBytes}: a whole
     * number of packed blocks, so that each chunk lands on a contiguous range of the output.
     */
    int rowsPerChunk(Tensor t, long chunkBytes) {
        long rowBytes = Math.max(1, t.shape().length == 2 ? (long) t.cols() * t.dtype().bytes() : t.data().byteSize());
        long rows = Math.max(1, chunkBytes / rowBytes);
        if (this == BF16_PACKED) {
            rows = Math.max(PackedBF16.BLOCK, rows / PackedBF16.BLOCK * PackedBF16.BLOCK);
        } else if (this == FP8_PACKED) {
            rows = Math.max(PackedF8.BLOCK, rows / PackedF8.BLOCK * PackedF8.BLOCK);
        }
        return (int) Math.min(rows, Integer.MAX_VALUE);
    }

    /**
     * Writes rows [from, to) of {@code t} in this layout into {@code dst} (exactly their bytes in the output; for a
     * 1-D tensor, row 0 is the whole tensor). The one place each layout is produced: change a layout here and bump
     * its version.
     */
    void write(Tensor t, int from, int to, MemorySegment dst) {
        if (t.shape().length != 2) {
            dst.copyFrom(t.data());
            return;
        }
        long rowBytes = (long) t.cols() * t.dtype().bytes();
        MemorySegment rows = t.data().asSlice(from * rowBytes, (to - from) * rowBytes);
        Tensor chunk = new Tensor(t.name(), t.dtype(), new long[] {to - from, t.cols()}, rows);
        switch (this) {
            case BF16_PACKED -> PackedBF16.packInto(chunk, dst);
            // PackedF8 packs into its own arena (its file belongs to the FP8 kernels' owner): copy that; the scales
            // ride beside the layout, not in it, so any valid pair serves here
            case FP8_PACKED -> dst.copyFrom(PackedF8.of(chunk.withScales(LAYOUT_ONLY)).data);
            case RAW -> dst.copyFrom(rows);
        }
    }

    /** Output bytes of rows [from, to) of {@code t} (a whole number of blocks, but for the last chunk). */
    long chunkBytes(Tensor t, int from, int to) {
        if (t.shape().length != 2) {
            return t.data().byteSize();
        }
        return switch (this) {
            case BF16_PACKED -> PackedBF16.bytes(to - from, t.cols());
            case FP8_PACKED -> fp8Bytes(to - from, t.cols());
            case RAW -> (long) (to - from) * t.cols() * t.dtype().bytes();
        };
    }
}
