package io.nemotron.core.weights;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** A tensor to be written: its name, dtype, shape and where its bytes come from. */
public record PendingTensor(String name, DType dtype, long[] shape, TensorFill fill) {

    public PendingTensor {
        shape = shape.clone();
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in " + Arrays.toString(shape));
            }
        }
    }

    /** Writes an existing tensor (e.g. one read from another checkpoint) by copying its bytes range by range. */
    public static PendingTensor copyOf(Tensor t) {
        MemorySegment src = t.data();
        int bytes = t.dtype().bytes();
        return new PendingTensor(t.name(), t.dtype(), t.shape(),
                (first, dst) -> MemorySegment.copy(src, first * bytes, dst, 0, dst.byteSize()));
    }

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long byteSize() {
        return Math.multiplyExact(numel(), dtype.bytes());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}
