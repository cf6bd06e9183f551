package io.nemotron.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.testing.Reference;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ModelStats} on the tiny nemotron-nas reference config (hidden 128, 8 heads × 16, vocab 256; blocks:
 * GQA4+MLP256, none+MLP256, linear+linear, GQA2+none, none+none, GQA1+MLP256), every expectation worked out by hand.
 */
class ModelStatsTest {
    private final ModelStats tiny = ModelStats.of(ModelConfigLoader.load(Reference.tinyF32()));

    @Test
    void parametersByHand() {
        long embed = 256 * 128, head = 256 * 128, norm = 128;
        long mlp = 128 + 3 * 256 * 128;                    // post norm + gate, up, down
        long attn = 128 + 128 * 128 * 2 + 2 * (4 * 16) * 128; // layer 0: norm, q + o, k + v of 4 kv heads
        long layer0 = attn + mlp;
        long layer1 = mlp;
        long layer2 = 128 + 128 * 128 + 128 + 128 * 128;
        long layer3 = 128 + 128 * 128 * 2 + 2 * (2 * 16) * 128;
        long layer5 = 128 + 128 * 128 * 2 + 2 * 16 * 128 + mlp;
        assertEquals(embed + head + norm + layer0 + layer1 + layer2 + layer3 + layer5, tiny.parameters());
    }

    @Test
    void blockCounts() {
        assertEquals(new BlockCounts(3, 1, 2, 3, 1, 2), tiny.blockCounts());
    }

    @Test
    void kvBytesPerToken() {
        // layers 0, 3, 5 keep KV with 4, 2, 1 kv heads of 16: 2 · (4 + 2 + 1) · 16 · 2 bytes
        assertEquals(448, tiny.kvBytesPerToken(2));
        // tp 2: 2, 1, 1 heads per rank (the single kv head of layer 5 is replicated)
        assertEquals(2 * (2 + 1 + 1) * 16 * 2, tiny.kvBytesPerTokenPerRank(2, 2));
    }

    @Test
    void perRankWeightBytesTp2ByHand() {
        long embedAndHead = 2 * 128 * 128;             // 256 vocab rows / 2 ranks
        long finalNorm = 128;
        long layer0 = 128 + 64 * 128 + 2 * (2 * 16 * 128) + 128 * 64 + 128 + 3 * 128 * 128;
        long layer1 = 128 + 3 * 128 * 128;
        long layer2 = 128 + 64 * 128 + 128 + 64 * 128;   // linear_attn / linear_mlp split over out features
        long layer3 = 128 + 64 * 128 + 2 * (16 * 128) + 128 * 64;
        long layer5 = 128 + 64 * 128 + 2 * (16 * 128) + 128 * 64 + 128 + 3 * 128 * 128; // kv head replicated
        long elements = embedAndHead + finalNorm + layer0 + layer1 + layer2 + layer3 + layer5;
        assertEquals(263_296, elements);
        assertEquals(2 * elements, tiny.perRankWeightBytes(2, 2));
        // fp8: projections at 1 byte, embeddings / lm_head / norms stay at 2 bytes
        long norms = 128 + 2 * 128 + 128 + 2 * 128 + 128 + 2 * 128; // final + l0 (2) + l1 + l2 (2) + l3 + l5 (2)
        assertEquals(1152, norms);
        long unquantized = embedAndHead + norms;
        assertEquals(2 * unquantized + (elements - unquantized), tiny.perRankWeightBytes(2, 1));
    }

    @Test
    void tp1HoldsEverything() {
        assertEquals(4 * tiny.parameters(), tiny.perRankWeightBytes(1, 4));
    }

    @Test
    void noKvLayersMeansNoKvBytes() {
        ModelConfig base = ModelConfigLoader.load(Reference.tinyF32());
        ModelConfig linearOnly = new ModelConfig(base.architecture(), base.modelType(), base.hiddenSize(),
                base.numAttentionHeads(), base.headDim(), base.vocabSize(), base.maxPositionEmbeddings(), base.rmsNormEps(),
                base.ropeTheta(), base.ropeScaling(), false, 1, List.of(2), "float32",
                List.of(new BlockConfig(new AttentionKind.Linear(), new FfnKind.Mlp(256))));
        ModelStats s = ModelStats.of(linearOnly);
        assertEquals(0, s.kvBytesPerToken(2));
    }

    @Test
    void badTensorParallelSizeIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> tiny.perRankWeightBytes(3, 2));
        assertTrue(e.getMessage().contains("num_attention_heads"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tiny.kvBytesPerTokenPerRank(0, 2));
    }
}
