package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RmsNorm and SiLU·mul against double-precision definitions, for lengths with vector tails. */
class ElementwiseTest {

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {1, 7, 33, 173, 1000})
    void rmsNormMatchesDouble(int n) {
        float[] x = TestTensors.gaussian(n + 4, n);
        float[] weight = TestTensors.gaussian(n, n + 1);
        float[] out = new float[n + 2];
        float eps = 1e-5f;
        RmsNorm.apply(x, 4, weight, eps, out, 2, n);
        double sumSq = 0;
        for (int i = 0; i < n; i++) {
            sumSq += (double) x[4 + i] * x[4 + i];
        }
        double inv = 1 / Math.sqrt(sumSq / n + eps);
        for (int i = 0; i < n; i++) {
            double expected = x[4 + i] * inv * weight[i];
            assertEquals(expected, out[2 + i], 1e-6 * Math.abs(expected) + 1e-6 * Math.abs(weight[i]), "i=" + i);
        }
        RmsNorm.apply(x, 4, weight, eps, x, 4, n);   // in place gives the same
        for (int i = 0; i < n; i++) {
            assertEquals(out[2 + i], x[4 + i], 0.0, "in place i=" + i);
        }
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {1, 7, 33, 173, 1000})
    void siluMulMatchesDouble(int n) {
        float[] gate = TestTensors.gaussian(n, 3 * n);
        float[] up = TestTensors.gaussian(n, 3 * n + 1);
        for (int i = 0; i < n; i++) {
            gate[i] *= 12;   // reach the saturated tails on both sides
        }
        gate[0] = -100f;     // e^100 overflows float: the result must be -0, not NaN
        float[] original = gate.clone();
        Silu.mulInPlace(gate, up, n);
        for (int i = 0; i < n; i++) {
            double g = original[i];
            double expected = g / (1 + Math.exp(-g)) * up[i];
            assertEquals(expected, gate[i], 4e-7 * Math.abs(expected) + 1e-30, "i=" + i + " g=" + g);
        }
    }
}
