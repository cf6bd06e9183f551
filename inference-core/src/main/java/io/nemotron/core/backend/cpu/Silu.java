package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The SwiGLU gate of the Llama MLP: gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + e^-g). */
public final class Silu {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Silu() {}

    public static void mulInPlace(float[] gate, float[] up, int n) {
        int upper = F.loopBound(n);
        int i = 0;
        for (; i < upper; i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            // e^-g overflows to +inf for g < -88, giving g / inf = -0, the correct limit.
            FloatVector denominator = g.neg().lanewise(VectorOperators.EXP).add(1f);
            g.div(denominator).mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }
}
