package io.nemotron.core.backend;

/**
 * The physical paged K/V storage of every FULL-attention layer, owned by the backend: {@code numBlocks} blocks of
 * {@code blockSize} token slots. Which sequence owns which block is the KV-cache manager's business, not the pool's.
 */
public interface KvPool {
    int numBlocks();

    int blockSize();

    /** Bytes reserved (memory is per block, never per maximum sequence length). */
    long bytes();
}
