package io.nemotron.service.engine;

import io.nemotron.core.engine.EngineConfig;

/**
 * The CPU backend keeps its KV pool on the JVM heap (exactly sized primitive arrays, allocated once at load), so the
 * heap limit must hold the pool and the service's own objects. The launcher sizes it as {@code kv-cache-size +
 * 512 MiB}; a pool that cannot fit is refused at load with the two settings to change, not an OutOfMemoryError later.
 */
final class HeapFit {
    /** What the service needs beside the KV pool: measured at about 0.3 GiB after serving (bench memory). */
    static final long HEADROOM_BYTES = 256L << 20;

    private HeapFit() {}

    /** Bytes the engine will allocate for its KV pool: whole blocks, as many as the configured bytes hold. */
    static long kvPoolBytes(EngineConfig config, long kvBytesPerBlock) {
        if (config.numKvBlocks() > 0) {
            return config.numKvBlocks() * kvBytesPerBlock;
        }
        return config.kvCacheBytes() / Math.max(1, kvBytesPerBlock) * kvBytesPerBlock;
    }

    /** Throws, naming both settings, when a pool of {@code kvPoolBytes} leaves less than the headroom in the heap. */
    static void check(long kvPoolBytes, long maxHeapBytes) {
        if (kvPoolBytes + HEADROOM_BYTES > maxHeapBytes) {
            long needMib = (kvPoolBytes >> 20) + 512;
            throw new IllegalArgumentException(String.format(
                    "nemotron.engine.kv-cache-size: the CPU KV pool of %d MiB lives on the JVM heap, whose limit is "
                            + "%d MiB; lower the KV cache size or raise the heap to about %d MiB "
                            + "(NEMOTRON_JAVA_OPTS=-Xmx%dm, or the chart's jvmOptions)",
                    kvPoolBytes >> 20, maxHeapBytes >> 20, needMib, needMib));
        }
    }
}
