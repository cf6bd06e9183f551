package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The arguments of one {@link Linear#forward} call as a reusable {@link RangeTask}, so that handing a call to the
 * pool allocates nothing. The fields are written by the caller before {@link CpuThreadPool#parallelFor}
 * publishes the task. The index range is rows (F32, F16) or groups of {@link MatMulBF16#GROUP} / {@link MatMulF8#GROUP}
 * row blocks (packed BF16, packed F8). Holds the grow-only activation scratch of the F16 kernel (even/odd) and of
 * the F8 kernel (the quantized activations), so a call allocates nothing once the largest call has been seen.
 */
final class LinearJob implements RangeTask {

    private DType dtype;
    private MemorySegment w;
    private PackedBF16 packed;
    private PackedF8 packedF8;
    private int rows;
    private int cols;
    private float[] in;
    private float[] out;
    private int tokens;
    private float[] xEven = new float[0];   // [tokens][cols/2]
    private float[] xOdd = new float[0];    // [tokens][cols/2]
    private float outScale;                 // F8: input_scale · weight_scale
    private float[] x8 = new float[0];      // F8: [tokens][paddedCols] E4M3 values of in / input_scale, 0 past cols

    void prepare(Tensor weight, float[] in, float[] out, int tokens) {
        this.dtype = weight.dtype();
        this.w = weight.data();
        this.rows = weight.rows();
        this.cols = weight.cols();
        this.in = in;
        this.out = out;
        this.tokens = tokens;
        if (dtype == DType.F16) {
            int needed = tokens * EvenOdd.pairs(cols);
            if (xEven.length < needed) {   // grows to the largest call once, then never again
                xEven = new float[needed];
                xOdd = new float[needed];
            }
            EvenOdd.split(in, cols, tokens, xEven, xOdd);
        }
    }

    void prepare(PackedBF16 weight, float[] in, float[] out, int tokens) {
        this.dtype = DType.BF16;
        this.packed = weight;
        this.in = in;
        this.out = out;
        this.tokens = tokens;
    }

    void prepare(PackedF8 weight, float[] in, float[] out, int tokens) {
        this.dtype = DType.F8_E4M3;
        this.packedF8 = weight;
        this.in = in;
        this.out = out;
        this.tokens = tokens;
        int cols = weight.cols;
        int stride = weight.paddedCols();
        if (x8.length < tokens * stride) {   // grows to the largest call once, then never again
            x8 = new float[tokens * stride];
        }
        // once per call, on the calling thread: every row of the weight reads the same quantized activations
        float inputScale = weight.scales.input();
        if (stride == cols) {
            MatVecF8Input.quantize(in, 0, tokens * cols, inputScale, x8, 0);
        } else {
            for (int t = 0; t < tokens; t++) {
                MatVecF8Input.quantize(in, t * cols, cols, inputScale, x8, t * stride);
                Arrays.fill(x8, t * stride + cols, (t + 1) * stride, 0f);   // the padding columns
            }
        }
        outScale = weight.scales.output();
    }

    /** Drops the references to the caller's arrays and weights so the thread-local pins nothing. */
    void release() {
        w = null;
        packed = null;
        packedF8 = null;
        in = null;
        out = null;
    }

    @Override
    public void run(int from, int to) {
        switch (dtype) {
            case F32 -> MatVecF32.rowsVector(w, rows, cols, in, out, tokens, from, to);
            case BF16 -> MatMulBF16.rowBlocks(packed, in, out, tokens, from * MatMulBF16.GROUP,
                    Math.min(packed.blocks, to * MatMulBF16.GROUP));
            case F16 -> MatVecF16.rowsVector(w, rows, cols, in, xEven, xOdd, out, tokens, from, to);
            case F8_E4M3 -> MatMulF8.rowBlocks(packedF8, x8, out, tokens, from * MatMulF8.GROUP,
                    Math.min(packedF8.blocks, to * MatMulF8.GROUP), outScale);
        }
    }
}
