package io.nemotron.core.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token of one sequence from its logits row. Order (as vLLM and HF apply them):
 * <ol>
 *   <li>penalties on the raw logits: repetition (prompt + output ids), then frequency and presence (output ids);</li>
 *   <li>temperature 0: argmax, lowest id among ties; nothing below applies;</li>
 *   <li>divide by temperature;</li>
 *   <li>top-k: exactly the k largest logits, ties at the k-th broken towards the lower id;</li>
 *   <li>top-p over the softmax of the top-k set: the shortest most-likely prefix whose mass reaches p
 *       (a token is kept when the mass strictly above it is below p, so at least one is kept);</li>
 *   <li>min-p: tokens with probability below minP x the top probability are dropped (a ratio, so it does not
 *       matter over which set the probabilities are normalised);</li>
 *   <li>one draw from the renormalised softmax of what is left, with the sequence's own random stream.</li>
 * </ol>
 * One instance per engine thread (not thread-safe): scratch arrays are allocated once per vocabulary size,
 * so steady-state greedy decoding allocates nothing.
 */
public final class Sampler {
    private float[] work = new float[0];
    private long[] keys = new long[0];

    /** Samples from {@code logits[0, vocab)} without changing them. */
    public int sample(float[] logits, int vocab, SamplingParams params, SamplingState state) {
        return sample(logits, 0, vocab, params, state);
    }

    /**
     * Samples from the row {@code logits[offset, offset+vocab)} (one row of a batch's logits) without changing it;
     * plain greedy reads the row in place, everything else works on a scratch copy.
     */
    public int sample(float[] logits, int offset, int vocab, SamplingParams params, SamplingState state) {
        if (offset < 0 || logits.length - offset < vocab) {
            throw new IllegalArgumentException("logits has " + logits.length + " entries, row " + offset + "+" + vocab);
        }
        if (params.isGreedy() && state.counts() == null) {
            return argmax(logits, offset, vocab) - offset;
        }
        float[] x = scratch(vocab);
        System.arraycopy(logits, offset, x, 0, vocab);
        if (state.counts() != null) {
            applyPenalties(x, params, state.counts());
        }
        if (params.isGreedy()) {
            return argmax(x, vocab);
        }
        float invT = 1f / params.temperature();
        for (int i = 0; i < vocab; i++) {
            x[i] *= invT;
        }
        int n = rankCandidates(x, vocab, params);
        return draw(x, n, params, state.random());
    }

    /** vLLM's penalties: repetition divides positive / multiplies negative logits; the others subtract. */
    static void applyPenalties(float[] x, SamplingParams p, SamplingCounts counts) {
        float rep = p.repetitionPenalty();
        for (int i = 0; i < counts.distinct(); i++) {
            int id = counts.idAt(i);
            if (id >= x.length) {
                continue;
            }
            if (rep != 1f) {
                x[id] = x[id] > 0 ? x[id] / rep : x[id] * rep;
            }
            int generated = counts.generatedAt(i);
            if (generated > 0) {
                x[id] -= p.frequencyPenalty() * generated + p.presencePenalty();
            }
        }
    }

    /** Index of the largest value, lowest index among ties; NaN never wins. */
    static int argmax(float[] x, int n) {
        return argmax(x, 0, n);
    }

    /** As above over x[from, from+n); returns the absolute index. */
    static int argmax(float[] x, int from, int n) {
        int best = from;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = from; i < from + n; i++) {
            if (x[i] > bestValue) {
                bestValue = x[i];
                best = i;
            }
        }
        return best;
    }

    /**
     * Leaves the candidates that survive top-k and top-p in {@code keys[0, n)}, most likely first, and returns n.
     * Without top-p only the top-k selection is needed, and without either no ordering at all.
     */
    private int rankCandidates(float[] x, int vocab, SamplingParams p) {
        long[] k = keys;
        for (int i = 0; i < vocab; i++) {
            k[i] = SamplingKeys.descending(x[i], i);
        }
        int n = vocab;
        boolean topP = p.topP() < 1f;
        if (p.topKEnabled(vocab)) {
            SamplingKeys.selectSmallest(k, vocab, p.topK());
            n = p.topK();
            if (topP || p.minP() > 0f) {
                Arrays.sort(k, 0, n);
            }
        } else if (topP || p.minP() > 0f) {
            // Full sort: top-p needs the order of every candidate it may keep. O(V log V), only when asked for.
            Arrays.sort(k, 0, n);
        }
        if (topP) {
            n = topPPrefix(x, k, n, p.topP());
        }
        return n;
    }

    private static int topPPrefix(float[] x, long[] k, int n, float topP) {
        float max = x[SamplingKeys.index(k[0])];
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += Math.exp(x[SamplingKeys.index(k[i])] - max);
        }
        double limit = topP * total;
        double above = 0;
        int kept = 0;
        while (kept < n && above < limit) {
            above += Math.exp(x[SamplingKeys.index(k[kept])] - max);
            kept++;
        }
        return Math.max(1, kept);
    }

    private int draw(float[] x, int n, SamplingParams p, SplittableRandom random) {
        long[] k = keys;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[SamplingKeys.index(k[i])]);
        }
        // min-p as a logit threshold: p_i >= minP * p_max  <=>  x_i >= x_max + ln(minP).
        double floor = p.minP() > 0f ? max + Math.log(p.minP()) : Double.NEGATIVE_INFINITY;
        double total = 0;
        for (int i = 0; i < n; i++) {
            float v = x[SamplingKeys.index(k[i])];
            if (v >= floor) {
                total += Math.exp(v - max);
            }
        }
        double u = random.nextDouble() * total;
        int last = -1;
        for (int i = 0; i < n; i++) {
            int id = SamplingKeys.index(k[i]);
            float v = x[id];
            if (v >= floor) {
                double w = Math.exp(v - max);
                if (w > 0) {
                    last = id;
                }
                u -= w;
                if (u < 0) {
                    return id;
                }
            }
        }
        // Rounding left u >= 0 after the last candidate: that candidate is the one the draw fell on.
        return last >= 0 ? last : SamplingKeys.index(k[0]);
    }

    /**
     * Log-probabilities of the raw model distribution (log-softmax of the logits before penalties and
     * temperature), as vLLM returns by default: the chosen id's, and the {@code topN} most likely ids'.
     */
    public SampledLogprobs logprobs(float[] logits, int vocab, int chosen, int topN) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[i] - max);
        }
        float logZ = (float) (max + Math.log(sum));
        int n = Math.min(topN, vocab);
        int[] topIds = new int[n];
        float[] topLogprobs = new float[n];
        if (n > 0) {
            long[] k = keys.length >= vocab ? keys : (keys = new long[vocab]);
            for (int i = 0; i < vocab; i++) {
                k[i] = SamplingKeys.descending(logits[i], i);
            }
            SamplingKeys.selectSmallest(k, vocab, n);
            Arrays.sort(k, 0, n);
            for (int i = 0; i < n; i++) {
                topIds[i] = SamplingKeys.index(k[i]);
                topLogprobs[i] = logits[topIds[i]] - logZ;
            }
        }
        return new SampledLogprobs(chosen, logits[chosen] - logZ, topIds, topLogprobs);
    }

    private float[] scratch(int vocab) {
        if (work.length < vocab) {
            work = new float[vocab];
            keys = new long[vocab];
        }
        return work;
    }
}
