package io.nemotron.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * A horizontal float sum with one fixed order. {@code reduceLanes(ADD)} may add in a different order in its
 * intrinsic and its Java fallback, so a row's result would depend on whether C2 had compiled the kernel yet;
 * the matmul kernels promise bit-identical rows whatever the thread split, so {@link MatVecF32} and
 * {@link MatVecF16} reduce with this butterfly (lane i + lane i^step, step = L/2 .. 1), whose rearranges and
 * lane-wise adds are exact in both forms. ({@link MatMulBF16} needs no horizontal sum: its lanes are rows.)
 */
final class Lanes {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();   // a power of two, at most 16 floats (512 bits)
    // Constant shuffles so C2 folds them; a step the species does not have is never used.
    private static final VectorShuffle<Float> SWAP8 = swap(8);
    private static final VectorShuffle<Float> SWAP4 = swap(4);
    private static final VectorShuffle<Float> SWAP2 = swap(2);
    private static final VectorShuffle<Float> SWAP1 = swap(1);

    private Lanes() {}

    static float sum(FloatVector v) {
        if (L > 8) {
            v = v.add(v.rearrange(SWAP8));
        }
        if (L > 4) {
            v = v.add(v.rearrange(SWAP4));
        }
        if (L > 2) {
            v = v.add(v.rearrange(SWAP2));
        }
        if (L > 1) {
            v = v.add(v.rearrange(SWAP1));
        }
        return v.lane(0);
    }

    private static VectorShuffle<Float> swap(int step) {
        return VectorShuffle.fromOp(F, i -> step < L ? i ^ step : i);
    }
}
