package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The device sampling gpu.kernels() (sampling.cu) against hand-worked cases and the distributions they must draw from: greedy
 * ties and NaN, top-k with tied values, top-p's shortest prefix, temperature-1 draws from the softmax, and the
 * penalties as the CPU Sampler applies them. Split from CudaKernelsGpuTest because its thousands of 1024-thread blocks
 * are most of the emulated suite's time, and the two classes run in parallel forks.
 */
@Tag("gpu")
class CudaSamplingGpuTest {
    @RegisterExtension
    static final CudaTestDevice gpu = new CudaTestDevice();

    private int[] sample(float[] logits, int rows, int vocab, float[] temperature, int[] topK, float[] topP,
                         float[] minP, long[] seeds, long[] steps) {
        try (DeviceBuffer dl = gpu.upload(logits, "logits"); DeviceBuffer dt = gpu.upload(temperature, "temperature");
             DeviceBuffer dk = gpu.upload(topK, "top_k"); DeviceBuffer dp = gpu.upload(topP, "top_p");
             DeviceBuffer dm = gpu.upload(minP, "min_p"); DeviceBuffer ds = gpu.upload(seeds, "seeds");
             DeviceBuffer dst = gpu.upload(steps, "steps"); DeviceBuffer out = gpu.device().allocate(rows * 4L, "ids")) {
            new SamplingKernels(gpu.kernels()).sampleTokensF32(out.address(), dl.address(), vocab, vocab, dt.address(),
                    dk.address(), dp.address(), dm.address(), ds.address(), dst.address(), rows);
            gpu.device().synchronize("sample_tokens_f32");
            int[] ids = new int[rows];
            out.download(ids);
            return ids;
        }
    }

    /** The same logits row in every one of {@code rows} rows, step = row index, one set of parameters. */
    private int[] sampleRepeated(float[] row, int rows, float t, int k, float p, float minP) {
        int vocab = row.length;
        float[] logits = new float[rows * vocab];
        long[] steps = new long[rows];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(row, 0, logits, i * vocab, vocab);
            steps[i] = i;
        }
        return sample(logits, rows, vocab, filled(rows, t), filledInt(rows, k), filled(rows, p), filled(rows, minP),
                new long[rows], steps);
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static int[] filledInt(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    @Test
    void greedyTakesTheLowestIdAmongTiesAndIgnoresNaN() {
        float nan = Float.NaN;
        float[] logits = {1, 3, 3, 2, /**/ nan, -1, nan, -2, /**/ nan, nan, nan, nan};
        int[] ids = sample(logits, 3, 4, new float[3], new int[3], filled(3, 1f), new float[3], new long[3], new long[3]);
        assertEquals(1, ids[0]);
        assertEquals(1, ids[1]);
        assertEquals(0, ids[2]);   // Sampler.argmax: nothing beats -inf, so the first index
    }

    @Test
    void filtersThatKeepOnlyTheMaxAreDeterministic() {
        float[] row = CudaKernelsGpuTest.random(new SplittableRandom(11), 128256, 5);
        int argmax = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[argmax]) {
                argmax = i;
            }
        }
        for (int id : sampleRepeated(row, 8, 1f, 1, 1f, 0f)) {
            assertEquals(argmax, id, "top-k 1");
        }
        for (int id : sampleRepeated(row, 8, 1f, 0, 1e-9f, 0f)) {
            assertEquals(argmax, id, "top-p 1e-9");
        }
        for (int id : sampleRepeated(row, 8, 1f, 0, 1f, 1f)) {
            assertEquals(argmax, id, "min-p 1");
        }
    }

    @Test
    void topKKeepsExactlyTheKLargestWithLowIdTies() {
        // ids 10, 20, 30 share the third-largest value; top-3 keeps 5, 7 and the lowest tied id, 10
        float[] row = new float[100];
        row[5] = 3f;
        row[7] = 2.5f;
        row[10] = row[20] = row[30] = 2f;
        int[] ids = sampleRepeated(row, 2000, 1f, 3, 1f, 0f);
        int[] counts = new int[100];
        for (int id : ids) {
            counts[id]++;
        }
        assertEquals(2000, counts[5] + counts[7] + counts[10], "only ids 5, 7, 10 may be drawn");
        // softmax of (3, 2.5, 2): 0.506, 0.307, 0.186
        assertEquals(0.506, counts[5] / 2000.0, 0.04);
        assertEquals(0.307, counts[7] / 2000.0, 0.04);
        assertEquals(0.186, counts[10] / 2000.0, 0.04);
    }

    @Test
    void topPKeepsTheShortestPrefixReachingP() {
        // probabilities 0.5, 0.3, 0.15, 0.05: with p = 0.7 the mass before id 2 is 0.8 >= 0.7, so ids 0 and 1 remain
        float[] row = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)};
        int[] counts = new int[4];
        for (int id : sampleRepeated(row, 4000, 1f, 0, 0.7f, 0f)) {
            counts[id]++;
        }
        assertEquals(0, counts[2] + counts[3]);
        assertEquals(0.5 / 0.8, counts[0] / 4000.0, 0.03);
    }

    @Test
    void temperatureOneDrawsFromTheSoftmax() {
        float[] row = {(float) Math.log(0.1), (float) Math.log(0.2), (float) Math.log(0.3), (float) Math.log(0.4)};
        int[] counts = new int[4];
        for (int id : sampleRepeated(row, 8000, 1f, 0, 1f, 0f)) {
            counts[id]++;
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(0.1 * (i + 1), counts[i] / 8000.0, 0.025, "id " + i);
        }
        // the same seed and step give the same token: the draw depends on nothing else
        assertEquals(sampleRepeated(row, 64, 1f, 0, 1f, 0f)[17], sampleRepeated(row, 64, 1f, 0, 1f, 0f)[17]);
    }

    @Test
    void penaltiesAsTheCpuSampler() {
        // id 0 generated twice, id 2 in the prompt only; rep 2, presence 0.5, frequency 0.25:
        //   x0 = 2 / 2 - (0.25 * 2 + 0.5) = 0;  x2 = -1 * 2 = -2;  x1, x3 unchanged
        float[] logits = {2f, 1.9f, -1f, 0.5f};
        try (DeviceBuffer dl = gpu.upload(logits, "logits"); DeviceBuffer off = gpu.upload(new int[] {0, 2}, "offsets");
             DeviceBuffer ids = gpu.upload(new int[] {0, 2}, "ids"); DeviceBuffer gen = gpu.upload(new int[] {2, 0}, "generated");
             DeviceBuffer rep = gpu.upload(new float[] {2f}, "rep"); DeviceBuffer pres = gpu.upload(new float[] {0.5f}, "presence");
             DeviceBuffer freq = gpu.upload(new float[] {0.25f}, "frequency")) {
            new SamplingKernels(gpu.kernels()).samplePenaltiesF32(dl.address(), 4, 4, off.address(), ids.address(),
                    gen.address(), rep.address(), pres.address(), freq.address(), 1);
            gpu.device().synchronize("sample_penalties_f32");
            float[] got = new float[4];
            dl.download(got);
            assertEquals(0f, got[0]);
            assertEquals(1.9f, got[1]);
            assertEquals(-2f, got[2]);
            assertEquals(0.5f, got[3]);
        }
    }
}
