package io.nemotron.core.engine;

/**
 * Engine limits (the server's {@code nemotron.engine.*} configuration).
 *
 * @param maxNumBatchedTokens token budget of one step (prefill chunks + decodes)
 * @param maxNumSeqs          sequences running at once
 * @param maxWaiting          queued sequences before submit() answers {@link EngineOverloadedException}
 * @param blockSize           tokens per KV block
 * @param numKvBlocks         KV blocks in the pool; 0 = derive from {@code kvCacheBytes}
 * @param kvCacheBytes        memory for the KV pool when numKvBlocks is 0
 * @param enablePrefixCaching share full prompt blocks between requests
 * @param threads             CPU compute threads
 */
public record EngineConfig(int maxNumBatchedTokens, int maxNumSeqs, int maxWaiting, int blockSize, int numKvBlocks,
                           long kvCacheBytes, boolean enablePrefixCaching, int threads) {

    public static EngineConfig defaults() {
        return new EngineConfig(512, 64, 1024, 16, 0, 1L << 30, true, Runtime.getRuntime().availableProcessors());
    }

    public EngineConfig {
        require(maxNumBatchedTokens >= 1, "max-num-batched-tokens must be >= 1, got " + maxNumBatchedTokens);
        require(maxNumSeqs >= 1, "max-num-seqs must be >= 1, got " + maxNumSeqs);
        require(maxWaiting >= 1, "max-waiting must be >= 1, got " + maxWaiting);
        require(blockSize >= 1 && Integer.bitCount(blockSize) == 1, "block-size must be a power of two, got " + blockSize);
        require(numKvBlocks >= 0, "num-kv-blocks must be >= 0, got " + numKvBlocks);
        require(numKvBlocks > 0 || kvCacheBytes > 0, "kv-cache-bytes must be > 0 when num-kv-blocks is 0");
        require(threads >= 1, "threads must be >= 1, got " + threads);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
