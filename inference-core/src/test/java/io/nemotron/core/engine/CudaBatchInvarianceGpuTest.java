package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Batch invariance on the tensor-parallel CUDA path (2 GPUs, NCCL), issue 16's must-show 5: 16 greedy requests
 * submitted at once produce, bit for bit, the ids each produced when it ran alone through the same engine. The
 * budget of 24 tokens per step splits the longer prompts into chunks that share steps with other requests' decode
 * rows, and half the prompts share a 40-token prefix (two full blocks of 16), so prefix-cache hits, chunked
 * prefill and decode all mix in the concurrent run while each lone run sees only itself. Two prompts are the
 * float64 reference's cases (an oracle independent of both runs) and two are exact duplicates (equal ids across
 * requests). Every KV block is free afterwards. Needs 2 GPUs (the emulator has 8); skipped without a GPU.
 */
@Tag("gpu")
class CudaBatchInvarianceGpuTest {
    private static final int MAX_TOKENS = 32;
    private static final int REQUESTS = 16;

    @Test
    void sixteenConcurrentGreedyRequestsEqualTheSameRequestsRunAloneAtTensorParallel2() throws Exception {
        CudaAvailability.assumeDevice();
        JsonNode cases = Reference.json("nemotron-nas-tiny/nas-tiny-a-bf16/expected.json").get("cases");
        List<int[]> prompts = prompts(cases);
        try (LoadedModel model = LoadedModel.openCuda(Reference.tinyBf16(), 0, 24, 2);
             Engine engine = new Engine(model, new EngineConfig(24, REQUESTS, 64, 16, 160, 0, true, 1))) {
            List<int[]> alone = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                CollectingListener l = submit(engine, "alone" + i, prompts.get(i));
                assertEquals(FinishReason.LENGTH, l.await(), "alone " + i);
                alone.add(l.ids());
                EngineTest.assertAllFree(engine);
            }
            long aloneSteps = engine.snapshot().steps();
            List<CollectingListener> together = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                together.add(submit(engine, "together" + i, prompts.get(i)));
            }
            for (int i = 0; i < REQUESTS; i++) {
                assertEquals(FinishReason.LENGTH, together.get(i).await(), "together " + i);
                assertEquals(MAX_TOKENS, alone.get(i).length, "alone " + i);
                assertArrayEquals(alone.get(i), together.get(i).ids(), "request " + i + ": concurrent ids differ from its lone run");
            }
            // the concurrent run really batched (far fewer steps than the lone runs) and hit the prefix cache
            EngineTest.assertAllFree(engine);
            long togetherSteps = engine.snapshot().steps() - aloneSteps;
            assertTrue(togetherSteps * 4 < aloneSteps, "batched steps " + togetherSteps + " vs lone steps " + aloneSteps);
            assertTrue(together.stream().mapToInt(l -> l.stats.cachedPromptTokens()).sum() >= 32,
                    "prefix-cache hits in the concurrent run");
            for (int c = 0; c < cases.size(); c++) {
                int[] expected = Reference.ints(cases.get(c).get("greedy_output_ids"));
                int[] got = Arrays.copyOf(alone.get(c), expected.length);
                assertArrayEquals(expected, got, "reference case " + c + " (its first " + expected.length + " ids)");
            }
            assertArrayEquals(alone.get(REQUESTS - 2), alone.get(REQUESTS - 1), "duplicate prompts, equal ids");
            EngineTest.assertAllFree(engine);
        }
    }

    private static CollectingListener submit(Engine engine, String id, int[] prompt) {
        CollectingListener l = new CollectingListener();
        engine.submit(EngineRequest.of(id, prompt,
                SamplingParams.builder().temperature(0).maxTokens(MAX_TOKENS).ignoreEos(true).build()), l);
        return l;
    }

    /**
     * The reference cases first, then prompts of 1 to 70 tokens: the odd ones start with a shared 40-token prefix
     * (prefix-cache hits on two full blocks), the even ones are unrelated; the last two are the same prompt.
     */
    private static List<int[]> prompts(JsonNode cases) {
        List<int[]> prompts = new ArrayList<>();
        for (JsonNode c : cases) {
            prompts.add(Reference.ints(c.get("prompt_ids")));
        }
        int[] prefix = new int[40];
        prefix[0] = 1;
        for (int j = 1; j < prefix.length; j++) {
            prefix[j] = 3 + (j * 37) % 250;
        }
        while (prompts.size() < REQUESTS - 1) {
            int i = prompts.size();
            boolean shared = i % 2 == 1;
            int len = shared ? prefix.length + 1 + (i * 5) % 30 : 1 + (i * 11) % 70;
            int[] p = new int[len];
            for (int j = 0; j < len; j++) {
                p[j] = shared && j < prefix.length ? prefix[j] : j == 0 ? 1 : 3 + (i * 31 + j * 17) % 250;
            }
            prompts.add(p);
        }
        prompts.add(prompts.get(REQUESTS - 2).clone());
        assertTrue(prompts.stream().mapToInt(p -> p.length).max().orElseThrow() > 24, "some prompt needs chunked prefill");
        return prompts;
    }
}
