package io.nemotron.core.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.testing.Reference;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShardPlanTest {

    @Test
    void ultraOnEightRanksHoldsOneKvHeadAndSixteenQueryHeadsPerRank() {
        ModelConfig ultra = ModelConfigLoader.load(Reference.ultraConfig());
        ShardPlan plan = ShardPlan.of(ultra, 8);
        for (int r = 0; r < 8; r++) {
            assertEquals(new ShardPlan.Range(16 * r, 16 * (r + 1)), plan.queryHeads(r));
            assertEquals(new ShardPlan.Range(r, r + 1), plan.kvHeads(8, r));
            // 128256 = 8 x 16032
            assertEquals(new ShardPlan.Range(16032 * r, 16032 * (r + 1)), plan.vocab(r));
            ModelConfig rank = plan.rankConfig(r);
            assertEquals(16, rank.numAttentionHeads());
            assertEquals(16384, rank.hiddenSize());
            for (int layer = 0; layer < ultra.numLayers(); layer++) {
                BlockConfig whole = ultra.blocks().get(layer);
                BlockConfig part = rank.blocks().get(layer);
                if (whole.attention() instanceof AttentionKind.Full) {
                    assertEquals(new AttentionKind.Full(1), part.attention());
                }
                if (whole.ffn() instanceof FfnKind.Mlp m) {
                    // every Ultra FFN width is a multiple of 256, so each of 8 ranks holds exactly an eighth
                    assertEquals(0, m.intermediateSize() % 256);
                    assertEquals(m.intermediateSize() / 8, ((FfnKind.Mlp) part.ffn()).intermediateSize());
                }
            }
        }
    }

    @Test
    void fewerKvHeadsThanRanksAreReplicatedOnTheRanksWhoseQueriesUseThem() {
        ModelConfig c = config(8, 2, 100);
        ShardPlan plan = ShardPlan.of(c, 8);
        // query head r (group size 4) uses kv head r / 4
        for (int r = 0; r < 8; r++) {
            assertEquals(new ShardPlan.Range(r, r + 1), plan.queryHeads(r));
            assertEquals(new ShardPlan.Range(r / 4, r / 4 + 1), plan.kvHeads(2, r));
        }
    }

    @Test
    void unevenWidthsAreSplitIntoContiguousRangesCoveringEveryColumnOnce() {
        ShardPlan plan = ShardPlan.of(config(8, 8, 100), 8);
        int next = 0;
        for (int r = 0; r < 8; r++) {
            ShardPlan.Range i = plan.intermediate(100, r);
            assertEquals(next, i.from());
            assertTrue(i.size() == 12 || i.size() == 13, "rank " + r + " width " + i.size());
            next = i.to();
        }
        assertEquals(100, next);
    }

    @Test
    void impossibleSplitsAreRefusedNamingWhatDoesNotDivide() {
        var heads = assertThrows(IllegalArgumentException.class, () -> ShardPlan.of(config(8, 8, 100), 3));
        assertEquals("tensor-parallel size 3 does not divide the 8 attention heads", heads.getMessage());
        var kv = assertThrows(IllegalArgumentException.class, () -> ShardPlan.of(config(12, 6, 100), 4));
        assertEquals("layer 0: 6 kv heads can neither be split over nor replicated across 4 tensor-parallel ranks",
                kv.getMessage());
        var zero = assertThrows(IllegalArgumentException.class, () -> ShardPlan.of(config(8, 8, 100), 0));
        assertEquals("tensor-parallel size must be >= 1, got 0", zero.getMessage());
    }

    static ModelConfig config(int heads, int kvHeads, int intermediate) {
        return new ModelConfig("DeciLMForCausalLM", "nemotron-nas", heads * 16, heads, 16, 320, 1024, 1e-5, 10000.0,
                null, false, 1, List.of(2), "bfloat16",
                List.of(new BlockConfig(new AttentionKind.Full(kvHeads), new FfnKind.Mlp(intermediate)),
                        new BlockConfig(new AttentionKind.None(), new FfnKind.Linear())));
    }
}
