package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Sampling one row of a batch's logits in place equals sampling that row on its own. */
class SamplerRowTest {

    @Test
    void greedyReadsTheRowInPlaceAndReturnsARowRelativeId() {
        // two rows of 4: row 0 peaks at id 3, row 1 at id 1 (hand-checked); ties pick the lower id
        float[] batch = {0f, 1f, 2f, 9f, /* row 1 */ 5f, 7f, 7f, -1f};
        SamplerDriver sampler = new SamplerDriver();
        SamplingParams greedy = SamplingParams.greedy(4);
        assertEquals(3, sampler.sample(batch, 0, 4, new SamplingState(greedy, new int[] {0})));
        assertEquals(1, sampler.sample(batch, 4, 4, new SamplingState(greedy, new int[] {0})));
    }

    @Test
    void seededSamplingFromAnOffsetMatchesTheCopiedRow() {
        float[] row = {0.5f, 1.5f, -0.5f, 1.0f, 0.2f};
        float[] batch = new float[15];
        System.arraycopy(row, 0, batch, 10, row.length);
        SamplingParams p = SamplingParams.builder().temperature(0.8f).topP(0.9f).repetitionPenalty(1.3f)
                .seed(7L).maxTokens(50).build();
        SamplingState alone = new SamplingState(p, new int[] {1, 3});
        SamplingState inBatch = new SamplingState(p, new int[] {1, 3});
        SamplerDriver sampler = new SamplerDriver();
        for (int i = 0; i < 50; i++) {
            int a = sampler.sample(row, 5, alone);
            int b = sampler.sample(batch, 10, 5, inBatch);
            assertEquals(a, b, "draw " + i);
            alone.accept(a);
            inBatch.accept(b);
        }
    }
}
