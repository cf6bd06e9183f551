package io.nemotron.core.weights;

import java.lang.foreign.MemorySegment;

/**
 * Produces a tensor's bytes one range at a time, so {@link SafetensorsWriter} never needs a whole tensor in memory.
 */
@FunctionalInterface
public interface TensorFill {
    /**
     * Writes elements {@code [firstElement, firstElement + dst.byteSize() / dtype.bytes())} of the row-major tensor
     * into {@code dst}, little-endian.
     */
    void fill(long firstElement, MemorySegment dst);
}
