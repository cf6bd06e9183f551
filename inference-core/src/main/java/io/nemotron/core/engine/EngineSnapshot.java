package io.nemotron.core.engine;

/** Point-in-time engine load, for health, ModelInfo and (later) metrics. */
public record EngineSnapshot(int running, int waiting, int totalBlocks, int freeBlocks, int blockSize,
                             long prefixCacheHits, long prefixCacheQueries, long preemptions, long steps) {}
