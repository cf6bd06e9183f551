package io.nemotron.core.weights;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A named, typed, row-major tensor whose bytes live in a (usually memory-mapped) segment.
 * The segment is exactly {@code numel * dtype.bytes()} long, little-endian.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public int rows() {
        return (int) shape[0];
    }

    public int cols() {
        return shape.length == 1 ? 1 : (int) shape[1];
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
