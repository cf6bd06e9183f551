package io.nemotron.core.weights;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A named, typed, row-major tensor whose bytes live in a (usually memory-mapped) segment.
 * The segment is exactly {@code numel * dtype.bytes()} long, little-endian. An {@link DType#F8_E4M3} linear weight
 * carries its {@link LinearScales} once the model's loader has attached them (a tensor read straight from a file has
 * none yet); every other tensor has none (null).
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data, LinearScales scales) {

    public Tensor {
        if (scales != null && dtype != DType.F8_E4M3) {
            throw new IllegalArgumentException("tensor '" + name + "': " + dtype + " has no FP8 scales");
        }
    }

    /** A tensor without FP8 scales. */
    public Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
        this(name, dtype, shape, data, null);
    }

    /** This FP8 tensor with its scales (the loader reads them from the tensors beside the weight). */
    public Tensor withScales(LinearScales s) {
        return new Tensor(name, dtype, shape, data, s);
    }

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** This FP8 tensor's scales; an error naming the tensor when the loader has not attached them. */
    public LinearScales requireScales() {
        if (scales == null) {
            throw new IllegalStateException("FP8 tensor '" + name + "' has no weight_scale/input_scale attached");
        }
        return scales;
    }

    public int rows() {
        return (int) shape[0];
    }

    public int cols() {
        return shape.length == 1 ? 1 : (int) shape[1];
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
