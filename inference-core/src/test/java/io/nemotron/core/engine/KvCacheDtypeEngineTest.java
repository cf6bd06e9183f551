package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.demo.DemoModel;
import io.nemotron.core.runtime.KvCacheChoice;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.Reference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;

/** The engine over CPU KV caches of each dtype: capacity from one memory budget, greedy ids, batch invariance. */
class KvCacheDtypeEngineTest {
    private static final int BLOCK = 16;

    /**
     * The demo model's KV capacity from one budget doubles from FP32 to BF16 and again to FP8. Expected tokens are
     * computed here from the demo config alone: per token, layers with FULL attention × kv heads × head dim × 2 (K
     * and V) × bytes; the engine holds whole blocks of 16 tokens that fit in the budget.
     */
    @Test
    void demoKvCapacityDoublesFromFp32ToBf16AndAgainToFp8(@TempDir Path cache) {
        ModelConfig config = DemoModel.config();
        long kvHeadDims = 0;
        for (BlockConfig b : config.blocks()) {
            if (b.attention() instanceof AttentionKind.Full full) {
                kvHeadDims += (long) full.kvHeads() * config.headDim();
            }
        }
        assertEquals((8 + 2 + 4 + 1 + 2 + 8) * 64, kvHeadDims, "the demo's FULL layers, by hand");
        long budget = 30_720_000;   // 150 FP32 blocks exactly, so that no dtype's last block is cut off
        Path dir = DemoModel.ensure(cache);
        long[] tokens = new long[3];
        int i = 0;
        for (KvCacheDtype dtype : KvCacheDtype.values()) {
            long perToken = kvHeadDims * 2 * dtype.bytes();
            long expected = budget / (perToken * BLOCK) * BLOCK;
            try (LoadedModel model = LoadedModel.openCpu(dir, 1, 16, 1, KvCacheChoice.of(dtype));
                 Engine engine = new Engine(model, new EngineConfig(16, 4, 8, BLOCK, 0, budget, true, 1))) {
                assertEquals(perToken, model.kvBytesPerToken(), dtype.label());
                assertEquals(expected, engine.kvCapacityTokens(), dtype.label());
                tokens[i++] = engine.kvCapacityTokens();
            }
        }
        assertEquals(2 * tokens[0], tokens[1], "fp32 -> bf16");
        assertEquals(2 * tokens[1], tokens[2], "bf16 -> fp8");
        assertEquals(2400, tokens[0], "30,720,000 bytes / 12,800 bytes per token");
    }

    /**
     * nemotron-nas-tiny (BF16 weights) through the engine with a BF16 or FP8 cache: eight greedy requests at once
     * give, bit for bit, the ids each gave alone (the cache's rounding is per element, the kernels are batch
     * invariant), and the float64 reference's greedy ids where that reference's cases are run. Budget 24 tokens per
     * step: prompts are prefilled in chunks that share steps with other requests' decode rows.
     */
    @ParameterizedTest
    @EnumSource(value = KvCacheDtype.class, names = {"BF16", "FP8"})
    void concurrentGreedyRequestsEqualThemselvesAloneAndTheReference(KvCacheDtype dtype) throws Exception {
        JsonNode cases = Reference.json("nemotron-nas-tiny/nas-tiny-a-bf16/expected.json").get("cases");
        List<int[]> prompts = new ArrayList<>();
        for (JsonNode c : cases) {
            prompts.add(Reference.ints(c.get("prompt_ids")));
        }
        while (prompts.size() < 8) {
            int n = prompts.size();
            int[] p = new int[5 + 9 * n];
            p[0] = 1;
            for (int j = 1; j < p.length; j++) {
                p[j] = 3 + (n * 31 + j * 17) % 250;
            }
            prompts.add(p);
        }
        int maxTokens = 24;
        try (LoadedModel model = LoadedModel.openCpu(Reference.tinyBf16(), 2, 24, 1, KvCacheChoice.of(dtype));
             Engine engine = new Engine(model, new EngineConfig(24, 8, 16, BLOCK, 64, 0, false, 2))) {
            assertEquals(dtype, model.kvFormat().dtype());
            List<int[]> alone = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                CollectingListener l = submit(engine, "alone" + i, prompts.get(i), maxTokens);
                assertEquals(FinishReason.LENGTH, l.await());
                alone.add(l.ids());
            }
            List<CollectingListener> together = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                together.add(submit(engine, "together" + i, prompts.get(i), maxTokens));
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals(FinishReason.LENGTH, together.get(i).await());
                assertArrayEquals(alone.get(i), together.get(i).ids(), dtype.label() + " request " + i);
            }
            for (int c = 0; c < cases.size(); c++) {
                int[] expected = Reference.ints(cases.get(c).get("greedy_output_ids"));
                assertArrayEquals(expected, Arrays.copyOf(alone.get(c), expected.length),
                        dtype.label() + " reference case " + c);
            }
            EngineTest.assertAllFree(engine);
        }
    }

    private static CollectingListener submit(Engine engine, String id, int[] prompt, int maxTokens) {
        CollectingListener l = new CollectingListener();
        engine.submit(EngineRequest.of(id, prompt,
                SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build()), l);
        return l;
    }
}
