package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The planner against two oracles: Ultra's numbers recomputed here from the raw config JSON (sharing no code with
 * the loader, {@code ModelStats} or the planner), and a tiny config worked out by hand in the comments.
 */
class MemoryPlannerTest {
    private static final long GIB = 1L << 30;

    /** DeciLM: find_multiple(int(2 * ffn_mult * hidden / 3), 256), evaluated left to right like Python. */
    private static long intermediate(double ffnMult, long hidden) {
        long n = (long) (2 * ffnMult * hidden / 3);
        return (n + 255) / 256 * 256;
    }

    @Test
    void ultraBf16OnEight80GiBGpusAtNinetyPercent() throws Exception {
        JsonNode raw = JsonMapper.builder().build().readTree(Files.readString(Reference.ultraConfig()));
        long h = raw.get("hidden_size").asLong();                 // 16384
        long heads = raw.get("num_attention_heads").asLong();     // 128
        long d = h / heads;                                        // 128 (no head_dim key)
        long v = raw.get("vocab_size").asLong();                  // 128256
        int tp = 8;
        // Weights of one rank, BF16: vocab-split embed + lm_head, the final norm, per block the norms whole,
        // q/o split by 8 (16 heads each), k/v one kv head each (128 / n_heads_in_group 16 = 8 kv heads over 8 ranks),
        // gate/up/down split by 8 (every Ultra width is a multiple of 256, so of 8).
        long elements = 2 * (v / tp) * h + h;
        long fullLayers = 0;
        long widestInter = 0;
        for (JsonNode block : raw.get("block_configs")) {
            JsonNode attn = block.get("attention");
            if (!attn.get("no_op").asBoolean()) {
                long kvHeads = heads / attn.get("n_heads_in_group").asLong();
                elements += h + 2 * (heads / tp) * d * h + 2 * Math.max(1, kvHeads / tp) * d * h;
                fullLayers++;
            }
            JsonNode ffn = block.get("ffn");
            if (!ffn.get("no_op").asBoolean()) {
                long inter = intermediate(ffn.get("ffn_mult").asDouble(), h);
                elements += h + 3 * (inter / tp) * h;
                widestInter = Math.max(widestInter, inter);
            }
        }
        long weights = 2 * elements;
        assertEquals(63_354_503_168L, weights);       // 253.4 B parameters / 8, plus the replicated norms, x 2 bytes
        assertEquals(425_984, widestInter);            // ffn_mult 39.0: 2 * 39 * 16384 / 3
        assertEquals(64, fullLayers);

        long device = 80 * GIB;
        long budget = (long) Math.floor(device * 0.9); // 77,309,411,328
        int rows = 2048, seqs = 256, blockSize = 16, maxLen = 131072;
        long activations = rows * 2L * (3 * h + 2 * (heads / tp) * d + 2 * d + 2 * (widestInter / tp));
        long logits = seqs * 4L * (v / tp + v);        // FP32 vocab shard + the gathered row
        // split-KV decode runs only for steps of at most 16 rows: 16 rows of partials, not one per sequence
        long splitKv = 16L * (heads / tp) * (maxLen / 512) * (d + 2) * 4;
        long stepInputs = rows * 16L + seqs * ((maxLen / blockSize) * 4L + 64);
        long workspace = activations + logits + splitKv + stepInputs + (32L << 20);
        long kvPerBlock = blockSize * fullLayers * 2 * 1 * d * 2;   // one kv head per rank, K and V, BF16
        long free = budget - weights - workspace - GIB;
        long blocks = free / kvPerBlock;

        MemoryPlan plan = MemoryPlanner.forModel(ModelConfigLoader.load(Reference.ultraConfig()))
                .tensorParallel(tp).weightBytes(2).kvBytes(2).deviceMemory(device).utilization(0.9)
                .maxRows(rows).maxSeqs(seqs).blockSize(blockSize).maxModelLen(maxLen).plan();

        assertEquals(budget, plan.budgetBytes());
        assertEquals(weights, plan.weightBytes());
        assertEquals(activations, plan.workspace().activationBytes());
        assertEquals(logits, plan.workspace().logitsBytes());
        assertEquals(splitKv, plan.workspace().splitKvBytes());
        assertEquals(stepInputs, plan.workspace().stepInputBytes());
        assertEquals(workspace, plan.workspace().total());
        assertEquals(kvPerBlock, plan.kvBytesPerBlock());
        assertEquals(524_288, kvPerBlock);              // 32 KiB per token per rank, 16 tokens
        assertEquals(blocks, plan.kvBlocks());
        assertEquals(22_891, plan.kvBlocks());          // about 366k tokens of context per server
        assertEquals(blocks * blockSize, plan.kvTokens());
        assertEquals(free - blocks * kvPerBlock, plan.unusedBytes());
        assertTrue(plan.unusedBytes() < kvPerBlock);
    }

    @Test
    void ultraOnOneGpuIsRefusedWithTheNumbers() {
        MemoryPlanner planner = MemoryPlanner.forModel(ModelConfigLoader.load(Reference.ultraConfig()))
                .deviceMemory(80 * GIB);
        MemoryPlanException e = assertThrows(MemoryPlanException.class, planner::plan);
        // every parameter at 2 bytes (UltraStatsTest: 253,401,268,224 parameters), and 0.9 x 80 GiB
        assertTrue(e.getMessage().contains("506802536448 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("77309411328 bytes"), e.getMessage());
    }

    /**
     * hidden 64, 4 heads of 16, vocab 100, 256 positions; blocks: FULL(2 kv heads) + MLP(128), none + linear,
     * linear + none.
     */
    private static ModelConfig tiny() {
        return new ModelConfig("DeciLMForCausalLM", "nemotron-nas", 64, 4, 16, 100, 256, 1e-5, 10000.0, null, false,
                1, List.of(2), "bfloat16", List.of(
                        new BlockConfig(new AttentionKind.Full(2), new FfnKind.Mlp(128)),
                        new BlockConfig(new AttentionKind.None(), new FfnKind.Linear()),
                        new BlockConfig(new AttentionKind.Linear(), new FfnKind.None())));
    }

    // By hand, tp 1, BF16:
    //   weights: embed 100*64 = 6400, lm_head 6400, final norm 64                                    = 12,864
    //            block 0: norm 64, q 4096, k 32*64 = 2048, v 2048, o 4096, norm 64, gate/up/down 3*8192 = 36,992
    //            block 1: norm 64 + linear_mlp 4096; block 2: norm 64 + linear_attn 4096             =  8,320
    //            58,176 elements = 116,352 bytes
    //   workspace, 8 rows, 2 sequences, blocks of 16, max-model-len 256:
    //            activations 8 * 2 * (3*64 + 2*64 + 2*32 + 2*128 = 640)  = 10,240
    //            logits 2 * 4 * 100                                      =    800
    //            split-KV 2 seqs * 4 heads * 1 partition * (16 + 2) * 4   =    576
    //            step inputs 8 * 16 + 2 * (16 blocks * 4 + 64)           =    384
    //            GEMM workspace                                          = 33,554,432
    //            total                                                   = 33,566,432
    //   KV: one FULL layer * 2 (K, V) * 2 kv heads * 16 * 2 bytes = 128 per token, 2,048 per block
    private static final long TINY_WEIGHTS = 116_352;
    private static final long TINY_WORKSPACE = 33_566_432;

    private static MemoryPlanner tinyPlanner() {
        return MemoryPlanner.forModel(tiny()).maxRows(8).maxSeqs(2).blockSize(16).maxModelLen(256).runtimeReserve(0);
    }

    @Test
    void tinyByHand() {
        // a budget of exactly 100 blocks and 100 spare bytes, at utilization 0.5 of twice that
        long budget = TINY_WEIGHTS + TINY_WORKSPACE + 100 * 2048 + 100;   // 33,887,684
        MemoryPlan plan = tinyPlanner().deviceMemory(2 * budget).utilization(0.5).plan();
        assertEquals(33_887_684, plan.budgetBytes());
        assertEquals(TINY_WEIGHTS, plan.weightBytes());
        assertEquals(new MemoryPlan.Workspace(10_240, 800, 576, 384, 33_554_432), plan.workspace());
        assertEquals(TINY_WORKSPACE, plan.workspace().total());
        assertEquals(2048, plan.kvBytesPerBlock());
        assertEquals(100, plan.kvBlocks());
        assertEquals(1600, plan.kvTokens());
        assertEquals(100, plan.unusedBytes());
        assertEquals(100 * 2048, plan.kvBytes());
    }

    /**
     * FP8 weights (1 byte a projection): the dequantizing path's scratch joins the workspace. By hand, tp 1: the largest
     * projection is gate/up/down, 128 x 64 = 8,192 elements (16,384 bytes as BF16); the widest projection input is
     * down_proj's 128, for 8 rows 8 * 128 * 2 = 2,048 bytes; 18,432 in all. tp 2: gate/up (64 x 64) and down (64 x 64)
     * are largest, 4,096 elements (8,192 bytes); the widest input is 64 (hidden, and down's 128 / 2): 1,024 bytes; 9,216.
     */
    @Test
    void fp8WeightsAddTheDequantizingScratchByHand() {
        assertEquals(0, tinyPlanner().deviceMemory(1L << 40).plan().workspace().fp8Bytes(), "BF16 weights: none");
        MemoryPlan one = tinyPlanner().weightBytes(1).deviceMemory(1L << 40).plan();
        assertEquals(18_432, one.workspace().fp8Bytes());
        assertEquals(TINY_WORKSPACE + 18_432, one.workspace().total());
        assertEquals(9_216, tinyPlanner().weightBytes(1).tensorParallel(2).deviceMemory(1L << 40).plan().workspace()
                .fp8Bytes());
    }

    /**
     * Ultra at TP 4 with FP8 weights, by hand from its config: the widest FFN (ffn_mult 39: intermediate 425,984) gives
     * gate/up shards of 106,496 x 16,384 (3.5 GB as BF16), dequantized 2^26 / 16,384 = 4,096 rows at a time: 2^26
     * elements, 134,217,728 bytes (q_proj's 4,096 x 16,384 shard is the same size; down_proj's 16,384 x 106,496 shard
     * goes 630 rows at a time, 67,092,480 elements). The widest input is down_proj's 106,496: 2,048 rows x 2 bytes =
     * 436,207,616. 570,425,344 bytes in all.
     */
    @Test
    void ultraFp8ScratchAtTensorParallelFourByHand() {
        MemoryPlanner planner = MemoryPlanner.forModel(ModelConfigLoader.load(Reference.ultraConfig())).tensorParallel(4)
                .weightBytes(1);
        assertEquals(134_217_728L + 436_207_616L, planner.fp8Scratch());
    }

    /** What the backend allocates for the tiny FP8 checkpoint (Fp8Linear.Scratch) is what the planner counts. */
    @Test
    void fp8ScratchOfTheTinyCheckpointIsWhatThePlannerCounts(@TempDir Path tmp) {
        Path dir = TinyFp8Checkpoint.write(tmp.resolve("fp8"), false);
        ModelConfig config = ModelConfigLoader.load(dir);
        try (SafetensorsReader r = SafetensorsReader.open(dir)) {
            ModelWeights w = ModelWeights.from(config, r);
            for (int rows : new int[] {1, 64}) {
                assertEquals(MemoryPlanner.forModel(config).weightBytes(1).maxRows(rows).fp8Scratch(),
                        Fp8Linear.Scratch.of(w, Fp8Linear.MAX_WEIGHT_SCRATCH_ELEMENTS).bytes(rows), rows + " rows");
            }
        }
    }

    @Test
    void tinyTensorParallelTwoByHand() {
        // tp 2: q/o/gate/up/down and the linears split; k/v one kv head each; vocab 50 rows each; norms whole.
        //   weights: 2 * 50*64 + 64 = 6,464; block 0: 64 + 2048 + 1024 + 1024 + 2048 + 64 + 3*4096 = 18,560;
        //            blocks 1, 2: 2 * (64 + 32*64) = 4,224  -> 29,248 elements = 58,496 bytes
        //   activations 8 * 2 * (192 + 2*32 + 2*16 + 2*64 = 416) = 6,656; logits 2 * 4 * (50 + 100) = 1,200;
        //   split-KV 2 * 2 heads * 1 * 18 * 4 = 288; step inputs 384; KV 2 * 1 head * 16 * 2 = 64 per token, 1,024 per block
        long workspace = 6_656 + 1_200 + 288 + 384 + 33_554_432;
        long budget = 58_496 + workspace + 40 * 1024;
        MemoryPlan plan = tinyPlanner().tensorParallel(2).deviceMemory(budget).utilization(1.0).plan();
        assertEquals(58_496, plan.weightBytes());
        assertEquals(new MemoryPlan.Workspace(6_656, 1_200, 288, 384, 33_554_432), plan.workspace());
        assertEquals(1024, plan.kvBytesPerBlock());
        assertEquals(40, plan.kvBlocks());
        assertEquals(0, plan.unusedBytes());
    }

    @Test
    void poolThatCannotHoldOneFullSequenceIsRefused() {
        // max-model-len 256 needs 16 blocks of 16; give it 15
        long budget = TINY_WEIGHTS + TINY_WORKSPACE + 15 * 2048;
        MemoryPlanException e = assertThrows(MemoryPlanException.class,
                () -> tinyPlanner().deviceMemory(budget).utilization(1.0).plan());
        assertTrue(e.getMessage().contains("holds 15 blocks"), e.getMessage());
        assertTrue(e.getMessage().contains("needs 16 blocks"), e.getMessage());
        // the same memory serves a shorter max-model-len: 240 tokens = 15 blocks
        assertEquals(15, tinyPlanner().maxModelLen(240).deviceMemory(budget).utilization(1.0).plan().kvBlocks());
    }

    @Test
    void weightsAndWorkspaceOverBudgetAreRefused() {
        long budget = TINY_WEIGHTS + TINY_WORKSPACE - 1;
        MemoryPlanException e = assertThrows(MemoryPlanException.class,
                () -> tinyPlanner().deviceMemory(budget).utilization(1.0).plan());
        assertTrue(e.getMessage().contains("need 0.00 GB (1 bytes) more"), e.getMessage());
    }

    @Test
    void badSettingsNameTheSetting() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> tinyPlanner().plan()).getMessage()
                .contains("device memory"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> tinyPlanner().deviceMemory(GIB).utilization(1.5).plan()).getMessage()
                .contains("gpu-memory-utilization"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> tinyPlanner().deviceMemory(GIB).blockSize(24).plan()).getMessage().contains("power of two"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> tinyPlanner().deviceMemory(GIB).tensorParallel(3).plan()).getMessage()
                .contains("num_attention_heads"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> tinyPlanner().deviceMemory(GIB).maxModelLen(257).plan()).getMessage().contains("max-model-len"));
    }
}
