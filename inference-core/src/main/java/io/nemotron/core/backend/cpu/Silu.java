package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SwiGLU gate of the Llama MLP: gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + e^-g). Every element
 * goes through {@link VectorExp} (the tail through its bit-identical scalar twin), so an element's bits do not
 * depend on where it falls in the batch.
 */
public final class Silu {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Silu() {}

    public static void mulInPlace(float[] gate, float[] up, int n) {
        mulInPlace(gate, up, 0, n);
    }

    /** Elements [from, to) only (a thread's share; any split gives the same bits). */
    public static void mulInPlace(float[] gate, float[] up, int from, int to) {
        int i = from;
        for (; i + F.length() <= to; i += F.length()) {
            silu(FloatVector.fromArray(F, gate, i)).mul(FloatVector.fromArray(F, up, i)).intoArray(gate, i);
        }
        for (; i < to; i++) {
            float g = gate[i];
            gate[i] = g / (VectorExp.exp(-g) + 1f) * up[i];   // the scalar twin: the same bits as a lane
        }
    }

    /** e^-g overflows to +inf for g < -88.7, giving g / inf = -0, the correct limit. */
    private static FloatVector silu(FloatVector g) {
        return g.div(VectorExp.exp(g.neg()).add(1f));
    }
}
