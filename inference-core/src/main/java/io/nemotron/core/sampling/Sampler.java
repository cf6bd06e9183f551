package io.nemotron.core.sampling;

import java.util.Arrays;

/**
 * Picks the next token of one sequence from its logits row: the host sampling op (and the oracle the device
 * sampling kernel, sampling.cu, is tested against). Order (as vLLM and HF apply them):
 * <ol>
 *   <li>penalties on the raw logits: repetition (prompt + output ids), then frequency and presence (output ids);</li>
 *   <li>temperature 0: argmax, lowest id among ties, NaN never wins; nothing below applies;</li>
 *   <li>multiply by the float reciprocal of the temperature;</li>
 *   <li>top-k: exactly the k largest logits, ties at the k-th broken towards the lower id;</li>
 *   <li>top-p over the softmax of the top-k set: the shortest most-likely prefix whose mass reaches p
 *       (a token is kept when the mass strictly above it is below p, so at least one is kept);</li>
 *   <li>min-p: tokens with probability below minP x the top probability are dropped (a ratio, so it does not
 *       matter over which set the probabilities are normalised);</li>
 *   <li>one draw from the renormalised softmax of what is left, by the exponential race ("Gumbel-max"): the kept id
 *       with the largest {@code (x_i - max) + G_i}, {@code G_i = -ln(-ln(U_i))}, {@code U_i =}
 *       {@link Philox#tokenUniform}{@code (seed, step, i)}, ties to the lower id. This picks id i with probability
 *       exactly {@code exp(x_i) / sum_kept exp(x_j)}, and it is the draw the device kernel makes, so the same seed
 *       gives the same token on both wherever two scores are not within float rounding of each other.</li>
 * </ol>
 * The settings of the row come from a {@link SamplingBatch}. One instance per step loop (not thread-safe): scratch
 * arrays are allocated once per vocabulary size, so steady-state greedy decoding allocates nothing.
 */
public final class Sampler {
    private float[] work = new float[0];
    private long[] keys = new long[0];

    /**
     * Samples row {@code row} of {@code sampling} from {@code logits[offset, offset+vocab)} without changing them;
     * plain greedy reads the row in place, everything else works on a scratch copy. Returns an id in [0, vocab).
     */
    public int sample(float[] logits, int offset, int vocab, SamplingBatch sampling, int row) {
        if (offset < 0 || logits.length - offset < vocab) {
            throw new IllegalArgumentException("logits has " + logits.length + " entries, row " + offset + "+" + vocab);
        }
        boolean penalties = sampling.hasPenalties(row);
        float temperature = sampling.temperature[row];
        if (temperature == 0f && !penalties) {
            return argmax(logits, offset, vocab) - offset;
        }
        float[] x = scratch(vocab);
        System.arraycopy(logits, offset, x, 0, vocab);
        if (penalties) {
            applyPenalties(x, vocab, sampling, row);
        }
        if (temperature == 0f) {
            return argmax(x, vocab);
        }
        float invT = 1f / temperature;
        for (int i = 0; i < vocab; i++) {
            x[i] *= invT;
        }
        int k = sampling.topK[row];
        boolean topK = k > 0 && k < vocab;
        float topP = sampling.topP[row];
        float minP = sampling.minP[row];
        if (!topK && topP >= 1f) {
            return drawFromAll(x, vocab, minP, sampling.seeds[row], sampling.steps[row]);
        }
        int n = rankCandidates(x, vocab, topK ? k : vocab, topP);
        return drawFromCandidates(x, n, minP, sampling.seeds[row], sampling.steps[row]);
    }

    /** vLLM's penalties: repetition divides positive / multiplies negative logits; the others subtract. */
    public static void applyPenalties(float[] x, int vocab, SamplingBatch s, int row) {
        float rep = s.repetition[row];
        float presence = s.presence[row];
        float frequency = s.frequency[row];
        for (int e = s.penaltyOffsets[row]; e < s.penaltyOffsets[row + 1]; e++) {
            int id = s.penaltyIds[e];
            if (id < 0 || id >= vocab) {
                continue;
            }
            if (rep != 1f) {
                x[id] = x[id] > 0 ? x[id] / rep : x[id] * rep;
            }
            int generated = s.penaltyGenerated[e];
            if (generated > 0) {
                x[id] -= frequency * generated + presence;
            }
        }
    }

    /** Index of the largest value, lowest index among ties; NaN never wins; 0 when nothing beats -inf. */
    public static int argmax(float[] x, int n) {
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
    private int rankCandidates(float[] x, int vocab, int k, float topP) {
        long[] keys = this.keys;
        for (int i = 0; i < vocab; i++) {
            keys[i] = SamplingKeys.descending(x[i], i);
        }
        int n = vocab;
        if (k < vocab) {
            SamplingKeys.selectSmallest(keys, vocab, k);
            n = k;
        }
        if (topP < 1f) {
            // top-p needs the order of every candidate it may keep: O(n log n), only when asked for
            Arrays.sort(keys, 0, n);
            n = topPPrefix(x, keys, n, topP);
        }
        return n;
    }

    private static int topPPrefix(float[] x, long[] k, int n, float topP) {
        float max = x[SamplingKeys.index(k[0])];
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += mass(x[SamplingKeys.index(k[i])], max);
        }
        double limit = topP * total;
        double above = 0;
        int kept = 0;
        while (kept < n && above < limit) {
            above += mass(x[SamplingKeys.index(k[kept])], max);
            kept++;
        }
        return Math.max(1, kept);
    }

    /** exp(v - max), and 0 for a NaN logit (it sorts last and is never drawn), as the kernel's fixed-point masses. */
    private static double mass(float v, float max) {
        double w = Math.exp(v - max);
        return w > 0 ? w : 0;
    }

    /** The exponential race over every id (no top-k, no top-p). */
    private static int drawFromAll(float[] x, int vocab, float minP, long seed, long step) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            if (x[i] > max) {   // NaN never raises the max (the kernel's fmaxf drops it too)
                max = x[i];
            }
        }
        double floor = minPFloor(max, minP);
        int best = -1;
        float bestScore = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float v = x[i];
            if (v >= floor) {   // NaN fails
                float score = (v - max) + Philox.gumbel(seed, step, i);
                if (score > bestScore || (best < 0 && score == bestScore)) {
                    bestScore = score;
                    best = i;
                }
            }
        }
        return Math.max(best, 0);   // an all-NaN or all -inf row: id 0, as the kernel
    }

    /** The exponential race over {@code keys[0, n)}, the top-k / top-p survivors (in any order). */
    private int drawFromCandidates(float[] x, int n, float minP, long seed, long step) {
        long[] keys = this.keys;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = x[SamplingKeys.index(keys[i])];
            if (v > max) {
                max = v;
            }
        }
        double floor = minPFloor(max, minP);
        int best = -1;
        float bestScore = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            int id = SamplingKeys.index(keys[i]);
            float v = x[id];
            if (v >= floor) {
                float score = (v - max) + Philox.gumbel(seed, step, id);
                // larger score, then lower id: the candidates are not in id order
                if (score > bestScore || (score == bestScore && (best < 0 || id < best))) {
                    bestScore = score;
                    best = id;
                }
            }
        }
        return Math.max(best, 0);
    }

    /** min-p as a logit threshold, in double as the kernel: p_i >= minP * p_max  <=>  x_i >= x_max + ln(minP). */
    private static double minPFloor(float max, float minP) {
        return minP > 0f ? max + Math.log(minP) : Double.NEGATIVE_INFINITY;
    }

    /**
     * Log-probabilities of the raw model distribution (log-softmax of the logits before penalties and
     * temperature), as vLLM returns by default: the chosen id's, and the {@code topN} most likely ids'.
     */
    public SampledLogprobs logprobs(float[] logits, int vocab, int chosen, int topN) {
        return logprobs(logits, 0, vocab, chosen, topN);
    }

    /** As above for the row {@code logits[offset, offset+vocab)}. */
    public SampledLogprobs logprobs(float[] logits, int offset, int vocab, int chosen, int topN) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        float logZ = (float) (max + Math.log(sum));
        int n = Math.min(topN, vocab);
        int[] topIds = new int[n];
        float[] topLogprobs = new float[n];
        if (n > 0) {
            long[] k = keys.length >= vocab ? keys : (keys = new long[vocab]);
            for (int i = 0; i < vocab; i++) {
                k[i] = SamplingKeys.descending(logits[offset + i], i);
            }
            SamplingKeys.selectSmallest(k, vocab, n);
            Arrays.sort(k, 0, n);
            for (int i = 0; i < n; i++) {
                topIds[i] = SamplingKeys.index(k[i]);
                topLogprobs[i] = logits[offset + topIds[i]] - logZ;
            }
        }
        return new SampledLogprobs(chosen, logits[offset + chosen] - logZ, topIds, topLogprobs);
    }

    private float[] scratch(int vocab) {
        if (work.length < vocab) {
            work = new float[vocab];
            keys = new long[vocab];
        }
        return work;
    }
}
