package io.nemotron.core.parallel;

import io.nemotron.core.backend.KvPool;

/** The KV pool of a tensor-parallel model: one pool per rank, each holding only that rank's kv heads. */
final class ShardedKvPool implements KvPool {
    final KvPool[] ranks;

    ShardedKvPool(KvPool[] ranks) {
        this.ranks = ranks;
    }

    @Override
    public int numBlocks() {
        return ranks[0].numBlocks();
    }

    @Override
    public int blockSize() {
        return ranks[0].blockSize();
    }

    @Override
    public long bytes() {
        long sum = 0;
        for (KvPool p : ranks) {
            sum += p.bytes();
        }
        return sum;
    }
}
