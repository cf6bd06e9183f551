package io.nemotron.core.parallel;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.BlockWeights;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * One rank's weights, cut from the full (memory-mapped) checkpoint by a {@link ShardPlan}. A slice of rows is a view
 * of the mapping (nothing is read until the kernels read it); a slice of columns (the row-parallel o_proj and
 * down_proj) is copied out row by row into {@code arena}, reading only the slice's bytes. So a rank never touches
 * more of the checkpoint than its own shard plus the replicated norms. An FP8 slice keeps its tensor's per-tensor scales.
 */
public final class WeightShards {
    private WeightShards() {}

    public static ModelWeights forRank(ModelWeights full, ShardPlan plan, int rank, Arena arena) {
        if (plan.ranks() == 1) {
            return full;
        }
        int headDim = plan.config().headDim();
        ShardPlan.Range q = plan.queryHeads(rank);
        ModelConfig rankConfig = plan.rankConfig(rank);
        List<BlockWeights> blocks = new ArrayList<>();
        for (BlockWeights b : full.blocks()) {
            Tensor qProj = null, kProj = null, vProj = null, oProj = null;
            if (b.config().attention() instanceof AttentionKind.Full f) {
                ShardPlan.Range kv = plan.kvHeads(f.kvHeads(), rank);
                qProj = rows(b.qProj(), q.from() * headDim, q.to() * headDim);
                kProj = rows(b.kProj(), kv.from() * headDim, kv.to() * headDim);
                vProj = rows(b.vProj(), kv.from() * headDim, kv.to() * headDim);
                oProj = columns(b.oProj(), q.from() * headDim, q.to() * headDim, arena);
            }
            Tensor gate = null, up = null, down = null;
            if (b.config().ffn() instanceof FfnKind.Mlp m) {
                ShardPlan.Range i = plan.intermediate(m.intermediateSize(), rank);
                gate = rows(b.gateProj(), i.from(), i.to());
                up = rows(b.upProj(), i.from(), i.to());
                down = columns(b.downProj(), i.from(), i.to(), arena);
            }
            ShardPlan.Range h = plan.hidden(rank);
            Tensor linearAttn = b.linearAttn() == null ? null : rows(b.linearAttn(), h.from(), h.to());
            Tensor linearMlp = b.linearMlp() == null ? null : rows(b.linearMlp(), h.from(), h.to());
            blocks.add(new BlockWeights(rankConfig.blocks().get(blocks.size()), b.inputLayernorm(),
                    qProj, kProj, vProj, oProj, linearAttn, b.postAttentionLayernorm(), gate, up, down, linearMlp));
        }
        ShardPlan.Range vocab = plan.vocab(rank);
        Tensor embed = rows(full.embedTokens(), vocab.from(), vocab.to());
        Tensor lmHead = full.lmHead() == full.embedTokens() ? embed : rows(full.lmHead(), vocab.from(), vocab.to());
        return new ModelWeights(embed, List.copyOf(blocks), full.norm(), lmHead);
    }

    /** Rows [from, to) of a 2-D tensor: a view. */
    static Tensor rows(Tensor t, int from, int to) {
        long rowBytes = t.cols() * (long) t.dtype().bytes();
        return new Tensor(t.name() + "[rows " + from + ":" + to + "]", t.dtype(), new long[] {to - from, t.cols()},
                t.data().asSlice(from * rowBytes, (to - from) * rowBytes), t.scales());
    }

    /** Columns [from, to) of a 2-D tensor: copied, reading only those bytes of each row. */
    static Tensor columns(Tensor t, int from, int to, Arena arena) {
        int elem = t.dtype().bytes();
        long rowBytes = t.cols() * (long) elem;
        long sliceBytes = (long) (to - from) * elem;
        MemorySegment out = arena.allocate(sliceBytes * t.rows(), 64);
        for (long r = 0; r < t.rows(); r++) {
            MemorySegment.copy(t.data(), r * rowBytes + from * (long) elem, out, r * sliceBytes, sliceBytes);
        }
        return new Tensor(t.name() + "[cols " + from + ":" + to + "]", t.dtype(), new long[] {t.rows(), to - from}, out,
                t.scales());
    }
}
