package io.nemotron.service.bench;

/**
 * Issue 19's bound on a CPU server's resident memory after serving: {@code 1.15 × weight bytes + KV pool + 1 GiB}.
 * The 15 % is the slack for what a layout of the weights adds (padding, scales); the GiB is the JVM itself (heap
 * beyond the KV pool, metaspace, code cache, thread stacks) and the native libraries (tokenizer, gRPC buffers).
 */
public record MemoryBound(long weightBytes, long kvPoolBytes) {
    public static final double WEIGHT_FACTOR = 1.15;
    public static final long OVERHEAD_BYTES = 1L << 30;

    public MemoryBound {
        if (weightBytes < 0 || kvPoolBytes < 0) {
            throw new IllegalArgumentException("weight bytes and KV pool bytes must be >= 0, got " + weightBytes
                    + " and " + kvPoolBytes);
        }
    }

    public long bytes() {
        return (long) Math.floor(WEIGHT_FACTOR * weightBytes) + kvPoolBytes + OVERHEAD_BYTES;
    }

    public boolean holds(long residentBytes) {
        return residentBytes <= bytes();
    }
}
