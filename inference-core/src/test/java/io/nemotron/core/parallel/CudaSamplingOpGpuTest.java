package io.nemotron.core.parallel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.Reference;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;

/**
 * The CUDA model's sampling op (issue 16: final norm, lm_head and sampling on the device, only ids back) against the
 * host Sampler on the logits of the same step, at TP 1 and TP 2 (where the ranks assemble the vocab-parallel logits
 * with an FP32 all-reduce on the devices instead of the host gather): nemotron-nas-tiny's reference prompts as one
 * mixed step, each row with other settings (greedy, temperature, top-k, top-p, min-p, penalties, logprobs), under
 * several seeds. The step runs twice on one KV pool, writing the same K/V at the same slots, once to the host and once
 * through the sampling op. Near-ties (scores within float rounding) would be the only allowed difference; with the
 * model's continuous logits none occurs in these draws.
 */
@Tag("gpu")
@Timeout(600)
class CudaSamplingOpGpuTest {
    private static final int BLOCK = 16;

    @Test
    void theDeviceSamplingOpDrawsWhatTheHostSamplerDrawsFromTheSameLogits() {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        JsonNode cases = Reference.json("nemotron-nas-tiny/nas-tiny-a-bf16/expected.json").get("cases");
        int n = cases.size();
        for (int tp : new int[] {1, 2}) {
            try (LoadedModel m = LoadedModel.openCuda(dir, 0, 64, tp)) {
                ForwardPass fp = m.forwardPass();
                Backend rank0 = fp instanceof TensorParallelTransformer t ? t.rank(0).backend() : m.transformer().backend();
                assertTrue(rank0.samplesOnDevice(), "the op under test samples on the device: " + m.backendName());
                int vocab = fp.config().vocabSize();
                StepBatch batch = new StepBatch(64, n);
                int blocksPerSeq = 4;
                KvPool kv = fp.newKvPool(n * blocksPerSeq, BLOCK);
                for (int c = 0; c < n; c++) {
                    int[] prompt = Reference.ints(cases.get(c).get("prompt_ids"));
                    int[] table = new int[blocksPerSeq];
                    for (int b = 0; b < blocksPerSeq; b++) {
                        table[b] = c * blocksPerSeq + b;
                    }
                    batch.addSequence(prompt, 0, prompt.length, table, BLOCK);
                    batch.markLogits(batch.rows - 1);
                }
                float[] logits = new float[n * vocab];
                fp.forward(batch, kv, logits);
                SplittableRandom random = new SplittableRandom(tp);
                for (int round = 0; round < 6; round++) {
                    SamplingBatch s = settings(n, round, random);
                    SampledTokens host = new SampledTokens(n);
                    host.sampleOnHost(logits, vocab, s);
                    SampledTokens device = new SampledTokens(n);
                    fp.forward(batch, kv, s, device);
                    for (int r = 0; r < n; r++) {
                        String what = "TP" + tp + " round " + round + " row " + r;
                        assertEquals(host.ids[r], device.ids[r], what);
                        if (s.wantsLogprobs(r)) {
                            assertEquals(host.logprobs[r].logprob(), device.logprobs[r].logprob(), what);
                            assertArrayEquals(host.logprobs[r].topIds(), device.logprobs[r].topIds(), what);
                            assertArrayEquals(host.logprobs[r].topLogprobs(), device.logprobs[r].topLogprobs(), what);
                        } else {
                            assertNull(device.logprobs[r], what);
                        }
                    }
                }
            }
        }
    }

    /** Row r of round k: one of six kinds of settings, rotating, with fresh seeds and steps. */
    private static SamplingBatch settings(int rows, int round, SplittableRandom random) {
        SamplingBatch s = new SamplingBatch(rows);
        for (int r = 0; r < rows; r++) {
            long seed = random.nextLong();
            int step = random.nextInt(100);
            switch ((r + round) % 6) {
                case 0 -> s.addRow(0f, 0, 1f, 0f, seed, step, 2);                              // greedy + logprobs
                case 1 -> s.addRow(1f, 0, 1f, 0f, seed, step, SamplingBatch.NO_LOGPROBS);      // plain draw
                case 2 -> s.addRow(0.7f, 8, 1f, 0f, seed, step, SamplingBatch.NO_LOGPROBS);    // top-k
                case 3 -> s.addRow(1.2f, 0, 0.8f, 0f, seed, step, 4);                          // top-p + logprobs
                case 4 -> s.addRow(0.9f, 0, 1f, 0.1f, seed, step, SamplingBatch.NO_LOGPROBS);  // min-p
                default -> {                                                                   // penalties
                    s.addRow(0.8f, 20, 0.95f, 0f, seed, step, SamplingBatch.NO_LOGPROBS);
                    s.setPenalties(1.3f, 0.4f, 0.2f);
                    for (int id = 0; id < 40; id += 3) {
                        s.addPenaltyId(id, id % 4);
                    }
                }
            }
        }
        return s;
    }
}
