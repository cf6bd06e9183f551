package io.nemotron.core.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.BlockWeights;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.RandomCheckpoint;
import io.nemotron.core.weights.SafetensorsReader;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7, must-show 2: each rank maps only its own slice of every weight. Row slices are views at exactly their
 * offset in the checkpoint's mapping; column slices are copies holding exactly their columns; the ranks' shards tile
 * every sharded tensor once, so each rank holds total / N bytes of them, plus the replicated norms.
 */
class WeightShardsTest {
    private static final int RANKS = 4;

    @TempDir
    Path tmp;

    @Test
    void everyRankHoldsExactlyItsSliceAndTheSlicesTileTheCheckpoint() {
        // 8 kv heads over 4 ranks (split, not replicated), widths divisible by 4: the tiling is exact
        ModelConfig config = RandomCheckpoint.write(tmp.resolve("m"),
                new RandomCheckpoint.Spec(128, 3, 8, 8, 96, 320, DType.BF16, 5), null);
        try (SafetensorsReader reader = SafetensorsReader.open(tmp.resolve("m")); Arena arena = Arena.ofConfined()) {
            ModelWeights full = ModelWeights.from(config, reader);
            ShardPlan plan = ShardPlan.of(config, RANKS);
            long shardedTotal = 0;
            long replicated = 0;
            for (BlockWeights b : full.blocks()) {
                shardedTotal += bytes(b.qProj()) + bytes(b.kProj()) + bytes(b.vProj()) + bytes(b.oProj())
                        + bytes(b.gateProj()) + bytes(b.upProj()) + bytes(b.downProj());
                replicated += bytes(b.inputLayernorm()) + bytes(b.postAttentionLayernorm());
            }
            shardedTotal += bytes(full.embedTokens()) + bytes(full.lmHead());
            replicated += bytes(full.norm());

            long sum = 0;
            for (int r = 0; r < RANKS; r++) {
                ModelWeights w = WeightShards.forRank(full, plan, r, arena);
                long rank = 0;
                int headDim = config.headDim();
                ShardPlan.Range q = plan.queryHeads(r);
                ShardPlan.Range kv = plan.kvHeads(8, r);
                ShardPlan.Range inter = plan.intermediate(96, r);
                for (int layer = 0; layer < config.numLayers(); layer++) {
                    BlockWeights whole = full.blocks().get(layer);
                    BlockWeights part = w.blocks().get(layer);
                    rank += assertRowView(whole.qProj(), part.qProj(), q.from() * headDim, q.to() * headDim);
                    rank += assertRowView(whole.kProj(), part.kProj(), kv.from() * headDim, kv.to() * headDim);
                    rank += assertRowView(whole.vProj(), part.vProj(), kv.from() * headDim, kv.to() * headDim);
                    rank += assertColumnCopy(whole.oProj(), part.oProj(), q.from() * headDim, q.to() * headDim);
                    rank += assertRowView(whole.gateProj(), part.gateProj(), inter.from(), inter.to());
                    rank += assertRowView(whole.upProj(), part.upProj(), inter.from(), inter.to());
                    rank += assertColumnCopy(whole.downProj(), part.downProj(), inter.from(), inter.to());
                    // norms are shared, not copied
                    assertSame(whole.inputLayernorm(), part.inputLayernorm());
                    assertSame(whole.postAttentionLayernorm(), part.postAttentionLayernorm());
                }
                ShardPlan.Range vocab = plan.vocab(r);
                rank += assertRowView(full.embedTokens(), w.embedTokens(), vocab.from(), vocab.to());
                rank += assertRowView(full.lmHead(), w.lmHead(), vocab.from(), vocab.to());
                assertEquals(shardedTotal / RANKS, rank, "rank " + r + " holds a quarter of the sharded bytes");
                sum += rank;
            }
            assertEquals(shardedTotal, sum, "the shards tile the sharded tensors exactly once");
            assertTrue(replicated < shardedTotal / 100, "replicated parts are the small norms: " + replicated);
        }
    }

    private static long bytes(Tensor t) {
        return t == null ? 0 : t.data().byteSize();
    }

    /** A view of rows [from, to): the same memory as those rows of the mapped tensor, nothing else. */
    private static long assertRowView(Tensor whole, Tensor part, int from, int to) {
        long rowBytes = whole.cols() * (long) whole.dtype().bytes();
        assertEquals(whole.data().address() + from * rowBytes, part.data().address(), whole.name() + " offset");
        assertEquals((to - from) * rowBytes, part.data().byteSize(), whole.name() + " size");
        assertArrayEquals(new long[] {to - from, whole.cols()}, part.shape());
        return part.data().byteSize();
    }

    /** A copy holding columns [from, to) of every row, element for element. */
    private static long assertColumnCopy(Tensor whole, Tensor part, int from, int to) {
        assertArrayEquals(new long[] {whole.rows(), to - from}, part.shape());
        assertEquals((long) whole.rows() * (to - from) * 2, part.data().byteSize());
        MemorySegment w = whole.data();
        MemorySegment p = part.data();
        for (long r = 0; r < whole.rows(); r++) {
            for (int c = from; c < to; c++) {
                short expected = w.get(ValueLayout.JAVA_SHORT_UNALIGNED, (r * whole.cols() + c) * 2);
                short actual = p.get(ValueLayout.JAVA_SHORT_UNALIGNED, (r * (to - from) + (c - from)) * 2);
                assertEquals(expected, actual, whole.name() + "[" + r + "][" + c + "]");
            }
        }
        return p.byteSize();
    }
}
