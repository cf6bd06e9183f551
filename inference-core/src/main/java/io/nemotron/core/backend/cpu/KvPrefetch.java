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
    @SuppressWarnings("unused")
    private static int intSink;

    private KvPrefetch() {}

    /** Whether a row attending to {@code len} positions of {@code kvStride} floats each is worth touching. */
    static boolean fits(int len, int kvStride) {
        return fitsBytes(len, 2L * kvStride * Float.BYTES);
    }

    /** Whether a row attending to {@code len} positions of {@code bytesPerSlot} K and V bytes is worth touching. */
    static boolean fitsBytes(int len, long bytesPerSlot) {
        return len * bytesPerSlot <= MAX_BYTES;
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

    /**
     * As above for the packed int pools of BF16 and FP8 caches: block b's keys are the {@code keyRegion} ints from
     * {@code table[b] * keyRegion}, its values the {@code valueRegion} ints from {@code table[b] * valueRegion}.
     * Returns the sum of the ints read.
     */
    static int touch(int[] keys, int keyRegion, int[] values, int valueRegion, int[] table, int blockShift, int len) {
        int blocks = Math.min(table.length, (len + (1 << blockShift) - 1) >> blockShift);
        int a = 0, b = 0;
        for (int k = 0; k < blocks; k++) {
            a += touchRegion(keys, table[k] * keyRegion, keyRegion);
            b += touchRegion(values, table[k] * valueRegion, valueRegion);
        }
        int sum = a + b;
        intSink = sum;
        return sum;
    }

    private static int touchRegion(int[] data, int from, int length) {
        int to = from + length;
        int a = 0, b = 0, c = 0, d = 0;
        int i = from;
        for (; i + 4 * LINE_FLOATS <= to; i += 4 * LINE_FLOATS) {
            a += data[i];
            b += data[i + LINE_FLOATS];
            c += data[i + 2 * LINE_FLOATS];
            d += data[i + 3 * LINE_FLOATS];
        }
        for (; i < to; i += LINE_FLOATS) {
            a += data[i];
        }
        return (a + b) + (c + d);
    }
}
