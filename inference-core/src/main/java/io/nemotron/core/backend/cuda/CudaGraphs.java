package io.nemotron.core.backend.cuda;

/**
 * Whether the CUDA backend runs decode steps as CUDA graphs, and up to which batch size. A decode step (every sequence
 * one new token) of at most {@code maxBatch} rows is padded to its bucket ({@link GraphBuckets}) and replays the graph
 * captured for that bucket, which launches the whole forward from the embedding through the last block at once
 * instead of a few hundred launches and GEMM calls from Java. Larger decode steps, prefill and mixed steps run eagerly.
 *
 * @param enabled  graphs on; off runs every step eagerly (the reference path, and the switch for debugging)
 * @param maxBatch largest decode batch captured (vLLM's max capture size); at most the backend's maxRows
 */
public record CudaGraphs(boolean enabled, int maxBatch) {
    /** vLLM's default largest capture size: above it, a step's launches are a small part of its time. */
    public static final int DEFAULT_MAX_BATCH = 256;

    public static final CudaGraphs OFF = new CudaGraphs(false, 0);

    public CudaGraphs {
        if (enabled && maxBatch < 1) {
            throw new IllegalArgumentException("CUDA graphs need a largest batch size of at least 1, got " + maxBatch);
        }
    }

    /** Graphs for decode batches of up to {@link #DEFAULT_MAX_BATCH} rows (fewer when the backend holds fewer). */
    public static CudaGraphs on() {
        return new CudaGraphs(true, DEFAULT_MAX_BATCH);
    }

    /**
     * The value of a {@code --cuda-graphs on|off} style switch; fails naming {@code flag} and the accepted values.
     */
    public static CudaGraphs parse(String value, String flag) {
        if (value == null) {
            throw new IllegalArgumentException(flag + " must be on or off, got nothing");
        }
        return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "on", "true" -> on();
            case "off", "false" -> OFF;
            default -> throw new IllegalArgumentException(flag + " must be on or off, got '" + value + "'");
        };
    }
}
