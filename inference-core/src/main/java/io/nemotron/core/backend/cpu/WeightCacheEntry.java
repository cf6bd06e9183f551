package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import java.util.Arrays;

/** One tensor of a weight cache file: where its bytes are, in which layout, and their checksum. */
record WeightCacheEntry(String name, CachedLayout layout, DType dtype, long[] shape, long offset, long bytes, int crc32c) {

    boolean sameShape(long[] other) {
        return Arrays.equals(shape, other);
    }
}
