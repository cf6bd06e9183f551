package io.nemotron.core.backend.cpu;

/**
 * Pulls a sequence's K/V blocks into this core's cache before {@link Attention} reads them, by reading one float of
 * every cache line of each block's key and value region in address order.
 *
 * <p>Why: a decode step's K/V is cold (the step streamed tens of MB of weights since the last step read it), and
 * attention reads each kv head's keys as 4 KB pieces of randomly placed blocks and its values as 256-byte rows at
 * the pool's row stride. Hardware prefetchers stop at page boundaries and barely train on pieces that small, so
 * attention ran latency-bound at ~20 GB/s. A block's region for all kv heads is contiguous (32 KB with 8 kv heads):
 * read straight through, it streams, and the head-by-head pass that follows hits L2. Java has no prefetch
 * instruction; these are plain loads whose sum goes to a field, so the JIT cannot drop them.
 *
 * <p>Only for rows whose K and V together fit in {@link #MAX_BYTES} (half of a 1 MB L2): a longer context would
 * evict its own first blocks before attention reaches them, and measured no faster.
 */
final class KvPrefetch {
    static final long MAX_BYTES = 512 * 1024;
    private static final int LINE_FLOATS = 16;                      // 64-byte cache lines

    @SuppressWarnings("unused")
    private static float sink;                                      // racy on purpose: only the loads matter

    private KvPrefetch() {}

    /** Whether a row attending to {@code len} positions of {@code kvStride} floats each is worth touching. */
    static boolean fits(int len, int kvStride) {
        return 2L * len * kvStride * Float.BYTES <= MAX_BYTES;
    }

    /**
     * Reads every cache line of the key and value regions of the blocks holding positions [0, len), each region
     * {@code kvStride << blockShift} floats from {@code table[b] * kvStride << blockShift}; returns the sum of the
     * floats read (first float of each line).
     */
    static float touch(float[] keys, float[] values, int[] table, int blockShift, int len, int kvStride) {
        int regionFloats = kvStride << blockShift;
        // a table too short for len is Attention's error to report, with its message
        int blocks = Math.min(table.length, (len + (1 << blockShift) - 1) >> blockShift);
        float a = 0f, b = 0f, c = 0f, d = 0f;                       // four chains: the adds must not serialize the loads
        for (int k = 0; k < blocks; k++) {
            int from = table[k] * regionFloats;
            int to = from + regionFloats;
            int i = from;
            for (; i + 4 * LINE_FLOATS <= to; i += 4 * LINE_FLOATS) {
                a += keys[i] + values[i];
                b += keys[i + LINE_FLOATS] + values[i + LINE_FLOATS];
                c += keys[i + 2 * LINE_FLOATS] + values[i + 2 * LINE_FLOATS];
                d += keys[i + 3 * LINE_FLOATS] + values[i + 3 * LINE_FLOATS];
            }
            for (; i < to; i += LINE_FLOATS) {
                a += keys[i] + values[i];
            }
        }
        float sum = (a + b) + (c + d);
        sink = sum;
        return sum;
    }
}
