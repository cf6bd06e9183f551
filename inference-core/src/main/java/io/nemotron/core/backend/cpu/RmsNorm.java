package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Llama RMSNorm over one row: out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]. */
public final class RmsNorm {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private RmsNorm() {}

    /** x and out may be the same array and offset (in place). weight: [n]. */
    public static void apply(float[] x, int xOff, float[] weight, float eps, float[] out, int outOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(n);
        int i = 0;
        for (; i < upper; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            acc = v.fma(v, acc);
        }
        // NOTE: not reduceLanes(ADD), whose order differs between its intrinsic and its Java fallback: a row's norm
        // would then depend on whether C2 had compiled this method yet (a cold and a warm process would disagree)
        float sumSq = Lanes.sum(acc);
        for (; i < n; i++) {
            sumSq += x[xOff + i] * x[xOff + i];
        }
        float inv = (float) (1.0 / Math.sqrt(sumSq / n + eps));
        // HF order: (x * rsqrt) * weight, both in float32.
        i = 0;
        for (; i < upper; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).mul(inv).mul(FloatVector.fromArray(F, weight, i))
                    .intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = x[xOff + i] * inv * weight[i];
        }
    }
}
