package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 16, must-show 3: the device sampling op ({@link DeviceSampler}: sample_penalties_f32 and sample_tokens_f32
 * behind one packed upload) against the host {@link io.nemotron.core.sampling.Sampler}, row by row, on the same
 * logits and the same settings, seeds and steps: seeded draws at several temperatures, top-k, top-p and min-p alone
 * and together, the penalties, and the edges where a filter's cut falls exactly on a tie. Both draw by the same Philox
 * exponential race, so the ids must be equal wherever no two candidates' scores are within float rounding of each
 * other and no top-p cut lies within rounding of p (the host sums exp in double, the device in 2^-40 fixed point);
 * the logits here are continuous random values (such near-ties have probability around 1e-7 per row) or exact ties
 * built so that both sides compute the same masses exactly (exp(0) = 1).
 */
@Tag("gpu")
class DeviceSamplingGpuTest {
    @RegisterExtension
    static final CudaTestDevice gpu = new CudaTestDevice();

    private static final int VOCAB = 700;
    private static CudaStream stream;

    /** The sampler runs on a created (non-blocking) stream, as in the backend; the module launches on it. */
    @BeforeAll
    static void openStream() {
        stream = new CudaStream("sampling test");
        gpu.kernels().launchOn(stream);
    }

    @AfterAll
    static void closeStream() {
        if (stream != null) {
            stream.close();
        }
    }

    /** Test data uploaded synchronously on the legacy stream, which does not order the sampler's stream: wait for it. */
    private static DeviceBuffer uploaded(float[] logits) {
        DeviceBuffer d = gpu.upload(logits, "logits");
        gpu.device().synchronize("the logits upload");
        return d;
    }

    /** Samples every row of {@code s} on the device and on the host and asserts equal ids and logprobs. */
    private static SampledTokens assertDeviceMatchesHost(float[] logits, int vocab, SamplingBatch s, String what) {
        SampledTokens host = new SampledTokens(s.rows);
        host.sampleOnHost(logits, vocab, s);
        SampledTokens device = new SampledTokens(s.rows);
        try (DeviceBuffer d = uploaded(logits);
             DeviceSampler sampler = new DeviceSampler(gpu.device(), new SamplingKernels(gpu.kernels()), stream)) {
            sampler.sample(d, vocab, s, 0, s.rows, device);
        }
        for (int r = 0; r < s.rows; r++) {
            String row = what + " row " + r + " (t " + s.temperature[r] + ", k " + s.topK[r] + ", p " + s.topP[r]
                    + ", min-p " + s.minP[r] + ", seed " + s.seeds[r] + ", step " + s.steps[r] + ")";
            assertEquals(host.ids[r], device.ids[r], row);
            if (s.wantsLogprobs(r)) {
                assertEquals(host.logprobs[r].tokenId(), device.logprobs[r].tokenId(), row);
                assertEquals(host.logprobs[r].logprob(), device.logprobs[r].logprob(), row);
                assertArrayEquals(host.logprobs[r].topIds(), device.logprobs[r].topIds(), row);
                assertArrayEquals(host.logprobs[r].topLogprobs(), device.logprobs[r].topLogprobs(), row);
            } else {
                assertNull(device.logprobs[r], row);
            }
        }
        return host;
    }

    private static float[] gaussianRows(int rows, int vocab, double scale, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[rows * vocab];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * scale);
        }
        return x;
    }

    @Test
    void seededDrawsAtSeveralTemperaturesMatchTheHost() {
        int rows = 48;
        float[] logits = gaussianRows(rows, VOCAB, 2.5, 1);
        SplittableRandom random = new SplittableRandom(2);
        float[] temperatures = {0.3f, 0.7f, 1f, 1.6f};
        SamplingBatch s = new SamplingBatch(rows);
        Set<Integer> distinct = new HashSet<>();
        for (int r = 0; r < rows; r++) {
            s.addRow(temperatures[r % 4], 0, 1f, 0f, random.nextLong(), random.nextInt(1 << 20),
                    r % 5 == 0 ? 3 : SamplingBatch.NO_LOGPROBS);
        }
        for (int id : Arrays.copyOf(assertDeviceMatchesHost(logits, VOCAB, s, "temperature").ids, rows)) {
            distinct.add(id);
        }
        // random draws, not an argmax in disguise: 48 rows of different logits land on many ids
        assertEquals(true, distinct.size() > 30, "distinct ids " + distinct.size());
    }

    @Test
    void theSameRowUnderManySeedsAndStepsMatchesTheHost() {
        int rows = 64;
        float[] row = gaussianRows(1, VOCAB, 1.5, 3);
        float[] logits = new float[rows * VOCAB];
        SamplingBatch s = new SamplingBatch(rows);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(row, 0, logits, r * VOCAB, VOCAB);
            s.addRow(1f, 0, 1f, 0f, 42L + r / 8, r % 8, SamplingBatch.NO_LOGPROBS);   // 8 seeds x 8 steps
        }
        assertDeviceMatchesHost(logits, VOCAB, s, "seeds and steps");
    }

    @Test
    void topKTopPAndMinPAloneAndTogetherMatchTheHost() {
        int[] ks = {0, 1, 2, 5, 50, VOCAB - 1};
        float[] ps = {1f, 0.05f, 0.5f, 0.9f, 0.999f};
        float[] minPs = {0f, 0.01f, 0.2f, 0.9f};
        int rows = ks.length * ps.length * minPs.length / 2;
        float[] logits = gaussianRows(rows, VOCAB, 2.0, 4);
        SplittableRandom random = new SplittableRandom(5);
        SamplingBatch s = new SamplingBatch(rows);
        int combo = 0;
        for (int k : ks) {
            for (float p : ps) {
                for (float m : minPs) {
                    if (combo++ % 2 == 0 && s.rows < rows) {   // half the grid, spread over every value of each
                        s.addRow(0.9f, k, p, m, random.nextLong(), random.nextInt(1000), SamplingBatch.NO_LOGPROBS);
                    }
                }
            }
        }
        assertEquals(rows, s.rows);
        assertDeviceMatchesHost(logits, VOCAB, s, "filters");
    }

    @Test
    void penaltiesThenGreedyOrSampledMatchTheHost() {
        int rows = 24;
        float[] logits = gaussianRows(rows, VOCAB, 3.0, 6);
        SplittableRandom random = new SplittableRandom(7);
        SamplingBatch s = new SamplingBatch(rows);
        for (int r = 0; r < rows; r++) {
            s.addRow(r % 3 == 0 ? 0f : 0.8f, r % 4 == 1 ? 20 : 0, r % 4 == 2 ? 0.8f : 1f, 0f, random.nextLong(), r,
                    r % 6 == 0 ? 5 : SamplingBatch.NO_LOGPROBS);
            s.setPenalties(r % 2 == 0 ? 1.3f : 0.85f, (r % 5) * 0.4f - 0.8f, (r % 3) * 0.5f);
            int ids = 1 + random.nextInt(60);
            Set<Integer> seen = new HashSet<>();
            while (seen.size() < ids) {
                int id = seen.size() == 0 ? argmax(logits, r * VOCAB, VOCAB) : random.nextInt(VOCAB + 10);  // some past the vocabulary: ignored
                if (seen.add(id)) {
                    s.addPenaltyId(id, random.nextInt(4));
                }
            }
        }
        assertDeviceMatchesHost(logits, VOCAB, s, "penalties");
    }

    private static int argmax(float[] x, int from, int n) {
        int best = from;
        for (int i = from; i < from + n; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best - from;
    }

    @Test
    void cutsThatFallExactlyOnTiesMatchTheHost() {
        int vocab = 8;
        // row 0: eight equal logits, top-p 0.25: masses exactly 1 each, mass before id 2 is exactly 2 = 0.25 x 8, so
        //        ids 0 and 1 are kept and 2 is not, on both sides;
        // row 1: top-k 3 over values with a three-way tie at the 2nd place: ids 1, 2 (and 3 excluded by id order);
        // row 2: min-p 1 keeps exactly the ties at the max (ids 4 and 6);
        // row 3: all -inf: id 0; row 4: NaN everywhere but id 5, which must win every filter.
        float ni = Float.NEGATIVE_INFINITY;
        float nan = Float.NaN;
        float[] logits = {
            0, 0, 0, 0, 0, 0, 0, 0,
            1, 4, 4, 4, 5, -1, -2, 0,
            1, 2, 3, 0, 5, 0, 5, 4,
            ni, ni, ni, ni, ni, ni, ni, ni,
            nan, nan, nan, nan, nan, 0, nan, nan,
        };
        int rows = logits.length / vocab;
        for (int draw = 0; draw < 16; draw++) {
            SamplingBatch s = new SamplingBatch(rows);
            s.addRow(1f, 0, 0.25f, 0f, draw, draw, SamplingBatch.NO_LOGPROBS);
            s.addRow(1f, 3, 1f, 0f, draw, draw, SamplingBatch.NO_LOGPROBS);
            s.addRow(1f, 0, 1f, 1f, draw, draw, SamplingBatch.NO_LOGPROBS);
            s.addRow(1f, 2, 0.9f, 0.5f, draw, draw, SamplingBatch.NO_LOGPROBS);
            s.addRow(0.5f, 3, 0.5f, 0.1f, draw, draw, SamplingBatch.NO_LOGPROBS);
            int[] ids = assertDeviceMatchesHost(logits, vocab, s, "ties, draw " + draw).ids;
            assertEquals(true, ids[0] == 0 || ids[0] == 1, "top-p tie row drew " + ids[0]);
            assertEquals(true, ids[1] == 4 || ids[1] == 1 || ids[1] == 2, "top-k tie row drew " + ids[1]);
            assertEquals(true, ids[2] == 4 || ids[2] == 6, "min-p tie row drew " + ids[2]);
            assertEquals(0, ids[3]);
            assertEquals(5, ids[4]);
        }
    }

    @Test
    void aLaterChunkLandsAtItsRowsOfTheOutput() {
        int rows = 6;
        float[] logits = gaussianRows(rows, VOCAB, 2.0, 8);
        SamplingBatch s = new SamplingBatch(rows);
        for (int r = 0; r < rows; r++) {
            s.addRow(r < 3 ? 0f : 1f, 0, 1f, 0f, 99L, r, SamplingBatch.NO_LOGPROBS);
            s.setPenalties(1.2f, 0f, 0f);
            s.addPenaltyId(r, 1);
        }
        SampledTokens host = new SampledTokens(rows);
        host.sampleOnHost(logits, VOCAB, s);
        SampledTokens device = new SampledTokens(rows);
        Arrays.fill(device.ids, -7);
        // rows 2..5 only, as CudaBackend samples a chunk: the device buffer holds just those rows
        float[] chunk = Arrays.copyOfRange(logits, 2 * VOCAB, rows * VOCAB);
        try (DeviceBuffer d = uploaded(chunk);
             DeviceSampler sampler = new DeviceSampler(gpu.device(), new SamplingKernels(gpu.kernels()), stream)) {
            sampler.sample(d, VOCAB, s, 2, 4, device);
        }
        assertArrayEquals(new int[] {-7, -7}, Arrays.copyOf(device.ids, 2));
        assertArrayEquals(Arrays.copyOfRange(host.ids, 2, 6), Arrays.copyOfRange(device.ids, 2, 6));
    }
}
