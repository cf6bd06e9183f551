package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Tensor;

/**
 * y = x W^T for a batch of tokens: the one matmul entry point of the CPU backend; dispatches on the weight's
 * dtype to {@link MatVecF32}, {@link MatMulBF16} (over a {@link PackedBF16} copy), {@link MatVecF16} or
 * {@link MatMulF8} (over a {@link PackedF8} copy) and splits the rows over the pool. An F8_E4M3 weight runs with
 * its {@link io.nemotron.core.weights.LinearScales} (ModelOpt FP8: the activations are quantized once per call, the outputs
 * multiplied by input_scale · weight_scale); one without scales is an error naming the tensor.
 *
 * <p>NOTE: the weight segment must be readable from the pool's threads (a global, auto or shared arena, as
 * mmapped checkpoints are), not a confined one.
 */
public final class Linear {

    /** Below this many multiply-adds (a few microseconds of work) the hand-off costs more than it saves. */
    static final long PARALLEL_MIN_MACS = 1 << 15;

    /** Per calling thread, so that a call allocates nothing: the task object and its even/odd scratch. */
    private static final ThreadLocal<LinearJob> JOBS = ThreadLocal.withInitial(LinearJob::new);

    private Linear() {}

    /**
     * out[t*rows + r] = sum_c W[r,c] * in[t*cols + c] for t in [0,tokens); W = weight tensor [rows, cols] of any
     * DType; for F8_E4M3, {@code (sum_c W8[r,c] * saturate_e4m3(in[t*cols + c] / input_scale)) * scales.output()}
     * (input_scale · weight_scale in float). A BF16 or F8 weight is packed for this one call: callers on a hot path
     * keep the {@link PackedBF16} / {@link PackedF8} and use the overloads taking them.
     */
    public static void forward(CpuThreadPool pool, Tensor weight, float[] in, float[] out, int tokens) {
        if (weight.shape().length != 2) {
            throw new IllegalArgumentException("Linear weight " + weight.name() + " must be 2-D, is " + weight.shapeString());
        }
        if (weight.dtype() == DType.BF16) {
            forward(pool, PackedBF16.of(weight), in, out, tokens);
            return;
        }
        if (weight.dtype() == DType.F8_E4M3) {
            forward(pool, PackedF8.of(weight), in, out, tokens);
            return;
        }
        int rows = weight.rows();
        int cols = weight.cols();
        check(weight.name(), rows, cols, in, out, tokens);
        LinearJob job = JOBS.get();
        job.prepare(weight, in, out, tokens);
        run(pool, job, rows, (long) rows * cols * tokens, tokens, 4);
    }

    /** As above for a packed F8 weight (its scales kept by the packing); the pool splits whole groups of row blocks. */
    static void forward(CpuThreadPool pool, PackedF8 weight, float[] in, float[] out, int tokens) {
        check(weight.name, weight.rows, weight.cols, in, out, tokens);
        LinearJob job = JOBS.get();
        job.prepare(weight, in, out, tokens);
        int groups = (weight.blocks + MatMulF8.GROUP - 1) / MatMulF8.GROUP;
        run(pool, job, groups, (long) weight.rows * weight.cols * tokens, tokens, 1);
    }

    /** As above for a packed BF16 weight; the pool splits whole groups of row blocks. */
    static void forward(CpuThreadPool pool, PackedBF16 weight, float[] in, float[] out, int tokens) {
        check(weight.name, weight.rows, weight.cols, in, out, tokens);
        LinearJob job = JOBS.get();
        job.prepare(weight, in, out, tokens);
        int groups = (weight.blocks + MatMulBF16.GROUP - 1) / MatMulBF16.GROUP;
        run(pool, job, groups, (long) weight.rows * weight.cols * tokens, tokens, 1);
    }

    private static void check(String name, int rows, int cols, float[] in, float[] out, int tokens) {
        if (tokens < 1 || (long) tokens * cols > in.length || (long) tokens * rows > out.length) {
            throw new IllegalArgumentException("Linear " + name + " [" + rows + ", " + cols + "]: tokens=" + tokens
                    + " needs in >= " + (long) tokens * cols + " (has " + in.length + ") and out >= "
                    + (long) tokens * rows + " (has " + out.length + ")");
        }
    }

    /** units: the job's index range; unitAlign: chunks of a dynamic split are multiples of it. */
    private static void run(CpuThreadPool pool, LinearJob job, int units, long macs, int tokens, int unitAlign) {
        try {
            if (macs < PARALLEL_MIN_MACS) {
                job.run(0, units);
            } else if (tokens >= 2) {
                // batched: enough work per chunk that claiming chunks pays for itself (see parallelForDynamic)
                pool.parallelForDynamic(units, grain(units, pool.threads(), unitAlign), job);
            } else {
                pool.parallelFor(units, job);
            }
        } finally {
            job.release();
        }
    }

    /** About 8 chunks per thread, each a multiple of align units. */
    static int grain(int units, int threads, int align) {
        int perChunk = Math.max(1, units / (8 * threads));
        return (perChunk + align - 1) / align * align;
    }
}
