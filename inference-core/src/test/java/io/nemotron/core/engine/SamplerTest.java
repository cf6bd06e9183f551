package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.sampling.Sampler;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Sampling against hand-computed candidate sets and probabilities. */
class SamplerTest {
    private static final int DRAWS = 20_000;

    private static float[] logitsOf(double... probs) {
        float[] x = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            x[i] = (float) Math.log(probs[i]);
        }
        return x;
    }

    /** Draws DRAWS tokens, each with its own seed, and returns the frequency of each id drawn. */
    private static Map<Integer, Double> frequencies(float[] logits, SamplingParams.Builder builder) {
        SamplerDriver sampler = new SamplerDriver();
        int[] counts = new int[logits.length];
        for (int i = 0; i < DRAWS; i++) {
            SamplingParams p = builder.seed((long) i).build().validate();
            counts[sampler.sample(logits, logits.length, new SamplingState(p, new int[0]))]++;
        }
        Map<Integer, Double> freq = new TreeMap<>();
        for (int id = 0; id < counts.length; id++) {
            if (counts[id] > 0) {
                freq.put(id, counts[id] / (double) DRAWS);
            }
        }
        return freq;
    }

    /** Exactly the expected ids occur, each within 4.5 binomial standard deviations of its probability. */
    private static void assertDistribution(Map<Integer, Double> expected, Map<Integer, Double> actual) {
        assertEquals(expected.keySet(), actual.keySet(), "candidate set");
        expected.forEach((id, prob) -> {
            double sigma = Math.sqrt(prob * (1 - prob) / DRAWS);
            assertEquals(prob, actual.get(id), 4.5 * sigma, "frequency of id " + id);
        });
    }

    @Test
    void greedyPicksTheLowestIdAmongTiesAndLeavesLogitsAlone() {
        float[] logits = {1f, 3f, 3f, 2f};
        SamplingParams p = SamplingParams.greedy(4);
        assertEquals(1, new SamplerDriver().sample(logits, 4, new SamplingState(p, new int[0])));
        assertArrayEquals(new float[] {1f, 3f, 3f, 2f}, logits);
    }

    @Test
    void penaltiesMatchHandComputedLogits() {
        // prompt {0, 1}; generated 2, 2, 4. repetition 2, frequency 0.5, presence 0.3.
        SamplingParams p = SamplingParams.builder().temperature(0).repetitionPenalty(2f).frequencyPenalty(0.5f)
                .presencePenalty(0.3f).build().validate();
        SamplingState state = new SamplingState(p, new int[] {0, 1});
        state.accept(2);
        state.accept(2);
        state.accept(4);
        float[] x = {2f, -2f, 1f, 0.5f, 3f};
        Sampler.applyPenalties(x, x.length, new SamplerDriver().row(state), 0);
        // id0: 2/2; id1: -2*2; id2: 1/2 - (0.5*2 + 0.3); id3: untouched; id4: 3/2 - (0.5 + 0.3)
        assertArrayEquals(new float[] {1f, -4f, -0.8f, 0.5f, 0.7f}, x, 1e-6f);
        // Without penalties id 4 wins; with them id 0 does.
        assertEquals(0, new SamplerDriver().sample(new float[] {2f, -2f, 1f, 0.5f, 3f}, 5, state));
    }

    @Test
    void plainSamplingFollowsTheSoftmax() {
        float[] logits = logitsOf(0.1, 0.2, 0.3, 0.4);
        assertDistribution(Map.of(0, 0.1, 1, 0.2, 2, 0.3, 3, 0.4), frequencies(logits, SamplingParams.builder()));
    }

    @Test
    void temperatureSharpensOrFlattens() {
        // p ∝ q^(1/T): T=2 on (0.8, 0.2) gives sqrt weights 0.894 : 0.447 = 2/3 : 1/3.
        assertDistribution(Map.of(0, 2.0 / 3, 1, 1.0 / 3),
                frequencies(logitsOf(0.8, 0.2), SamplingParams.builder().temperature(2f)));
    }

    @Test
    void topKKeepsExactlyTheKMostLikely() {
        float[] logits = logitsOf(0.1, 0.4, 0.2, 0.3);
        assertDistribution(Map.of(1, 0.4 / 0.7, 3, 0.3 / 0.7), frequencies(logits, SamplingParams.builder().topK(2)));
    }

    @Test
    void topPKeepsTheShortestPrefixReachingP() {
        float[] logits = logitsOf(0.5, 0.25, 0.15, 0.1);
        // mass above: 0, 0.5, 0.75, 0.9. p=0.7 keeps the first two; p=0.8 the first three.
        assertDistribution(Map.of(0, 2.0 / 3, 1, 1.0 / 3), frequencies(logits, SamplingParams.builder().topP(0.7f)));
        assertDistribution(Map.of(0, 0.5 / 0.9, 1, 0.25 / 0.9, 2, 0.15 / 0.9),
                frequencies(logits, SamplingParams.builder().topP(0.8f)));
    }

    @Test
    void minPDropsTokensBelowTheRatio() {
        float[] logits = logitsOf(0.5, 0.25, 0.15, 0.1);
        // min_p 0.25: floor 0.125 keeps 0.5, 0.25, 0.15.
        assertDistribution(Map.of(0, 0.5 / 0.9, 1, 0.25 / 0.9, 2, 0.15 / 0.9),
                frequencies(logits, SamplingParams.builder().minP(0.25f)));
    }

    @Test
    void topPIsAppliedToTheTopKDistribution() {
        float[] logits = logitsOf(0.5, 0.25, 0.15, 0.1);
        // top-3 renormalised: .556, .278, .167; mass above: 0, .556, .833 -> p=0.6 keeps ids 0 and 1.
        assertDistribution(Map.of(0, 2.0 / 3, 1, 1.0 / 3),
                frequencies(logits, SamplingParams.builder().topK(3).topP(0.6f)));
    }

    @Test
    void topKOnALargeVocabularyMatchesAnIndependentSort() {
        SplittableRandom random = new SplittableRandom(3);
        float[] logits = new float[5000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) random.nextGaussian();
        }
        // Independent top-5: sort copies of the values.
        float[] sorted = logits.clone();
        Arrays.sort(sorted);
        float fifth = sorted[sorted.length - 5];
        double total = 0;
        for (float v : logits) {
            total += v >= fifth ? Math.exp(v) : 0;
        }
        Map<Integer, Double> expected = new TreeMap<>();
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] >= fifth) {
                expected.put(i, Math.exp(logits[i]) / total);
            }
        }
        assertEquals(5, expected.size());
        assertDistribution(expected, frequencies(logits, SamplingParams.builder().topK(5)));
    }

    @Test
    void sameSeedSameTokens() {
        SplittableRandom random = new SplittableRandom(11);
        float[] logits = new float[1000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) random.nextGaussian();
        }
        SamplingParams a = SamplingParams.builder().seed(42L).topP(0.9f).build();
        SamplingParams b = SamplingParams.builder().seed(43L).topP(0.9f).build();
        assertArrayEquals(run(logits, a), run(logits, a));
        assertNotEquals(Arrays.toString(run(logits, a)), Arrays.toString(run(logits, b)));
    }

    private static int[] run(float[] logits, SamplingParams p) {
        SamplerDriver sampler = new SamplerDriver();
        SamplingState state = new SamplingState(p, new int[0]);
        int[] out = new int[50];
        for (int i = 0; i < out.length; i++) {
            out[i] = sampler.sample(logits, logits.length, state);
            state.accept(out[i]);
        }
        return out;
    }

    @Test
    void greedyWithPenaltiesDoesNotAllocateInSteadyState() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] logits = new float[128_256];
        logits[7] = 5f;
        SamplingParams p = SamplingParams.builder().temperature(0).repetitionPenalty(1.3f).maxTokens(5000).build();
        SamplingState state = new SamplingState(p, new int[] {7, 9});
        SamplerDriver sampler = new SamplerDriver();
        for (int i = 0; i < 2000; i++) {
            state.accept(sampler.sample(logits, logits.length, state));  // warm up, size the scratch
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1000; i++) {
            state.accept(sampler.sample(logits, logits.length, state));
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 10_000, "allocated " + allocated + " bytes in 1000 greedy steps");
    }

    @Test
    void logprobsAreTheRawLogSoftmax() {
        float[] logits = logitsOf(0.1, 0.2, 0.3, 0.4);
        for (int i = 0; i < logits.length; i++) {
            logits[i] += 7f;  // a shift must not change log-softmax
        }
        SampledLogprobs lp = new Sampler().logprobs(logits, 4, 1, 2);
        assertEquals(1, lp.tokenId());
        assertEquals(Math.log(0.2), lp.logprob(), 1e-5);
        assertArrayEquals(new int[] {3, 2}, lp.topIds());
        assertArrayEquals(new float[] {(float) Math.log(0.4), (float) Math.log(0.3)}, lp.topLogprobs(), 1e-5f);
    }
}
