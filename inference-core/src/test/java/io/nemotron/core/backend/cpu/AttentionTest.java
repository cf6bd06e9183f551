package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class AttentionTest {

    @ParameterizedTest(name = "heads={0} kvHeads={1} headDim={2} len={3} qScale={4}")
    @CsvSource({
            "8, 2, 33, 1, 1",
            "8, 2, 33, 7, 1",
            "4, 4, 64, 100, 1",
            "6, 1, 16, 37, 1",
            "8, 2, 64, 50, 30",   // large logits: only a max-subtracted softmax stays finite
    })
    void matchesNaiveDoubleGqaAttention(int heads, int kvHeads, int headDim, int len, float qScale) {
        int kvStride = kvHeads * headDim;
        float[] q = TestTensors.gaussian(3 + heads * headDim, 1);
        for (int i = 0; i < q.length; i++) {
            q[i] *= qScale;
        }
        float[] keys = TestTensors.gaussian(len * kvStride + kvStride, 2);   // one extra row beyond len
        float[] values = TestTensors.gaussian(len * kvStride + kvStride, 3);
        float[] out = new float[2 + heads * headDim];
        float[] scores = new float[len + 3];
        Attention.decode(q, 3, keys, values, len, heads, kvHeads, headDim, out, 2, scores);

        int group = heads / kvHeads;
        for (int h = 0; h < heads; h++) {
            int kv = h / group;
            double[] logits = new double[len];
            double max = Double.NEGATIVE_INFINITY;
            for (int p = 0; p < len; p++) {
                double s = 0;
                for (int d = 0; d < headDim; d++) {
                    s += (double) q[3 + h * headDim + d] * keys[p * kvStride + kv * headDim + d];
                }
                logits[p] = s / Math.sqrt(headDim);
                max = Math.max(max, logits[p]);
            }
            double z = 0;
            for (int p = 0; p < len; p++) {
                z += Math.exp(logits[p] - max);
            }
            for (int d = 0; d < headDim; d++) {
                double o = 0;
                for (int p = 0; p < len; p++) {
                    o += Math.exp(logits[p] - max) / z * values[p * kvStride + kv * headDim + d];
                }
                double tol = 2e-5 * qScale + 1e-6 * Math.sqrt(len);
                assertEquals(o, out[2 + h * headDim + d], tol, "head " + h + " dim " + d);
            }
        }
    }

    @Test
    void rejectsHeadsThatAreNotAMultipleOfKvHeads() {
        assertThrows(IllegalArgumentException.class, () -> Attention.decode(new float[6], 0, new float[4], new float[4],
                1, 3, 2, 2, new float[6], 0, new float[1]));
    }
}
