package io.nemotron.core.backend.cuda;

import java.util.Arrays;

/**
 * The batch sizes decode graphs are captured for: powers of two below the largest size, then the largest size itself
 * (1, 2, 4, ..., 128, 256 for 256; 1, 2, 4, 6 for 6), as vLLM's capture sizes. A step of {@code rows} decode rows runs
 * the graph of the smallest bucket that holds it, with {@code bucket - rows} pad rows. Powers of two keep the padding
 * below half a step, and {@link CudaBackend#SPLIT_MAX_ROWS} (16) is itself a bucket, so a bucket decides the split-KV
 * choice exactly as the step's own row count would.
 */
final class GraphBuckets {
    private final int[] sizes;

    GraphBuckets(int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("the largest graph batch must be >= 1, got " + maxBatch);
        }
        int n = 0;
        int[] s = new int[32];
        for (int b = 1; b < maxBatch; b *= 2) {
            s[n++] = b;
        }
        s[n++] = maxBatch;
        this.sizes = Arrays.copyOf(s, n);
    }

    /** The smallest bucket of at least {@code rows} rows, or -1 when {@code rows} exceeds the largest. */
    int bucketOf(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("a decode step has at least one row, got " + rows);
        }
        for (int s : sizes) {
            if (s >= rows) {
                return s;
            }
        }
        return -1;
    }

    int largest() {
        return sizes[sizes.length - 1];
    }

    int[] sizes() {
        return sizes.clone();
    }
}
