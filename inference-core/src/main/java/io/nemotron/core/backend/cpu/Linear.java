package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.Tensor;

/**
 * y = x W^T for a batch of tokens: the one matmul entry point of the CPU backend; dispatches on the weight's
 * dtype to {@link MatVecF32}, {@link MatVecBF16} or {@link MatVecF16} and splits the rows over the pool.
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

    /** out[t*rows + r] = sum_c W[r,c] * in[t*cols + c] for t in [0,tokens); W = weight tensor [rows, cols] of any DType. */
    public static void forward(CpuThreadPool pool, Tensor weight, float[] in, float[] out, int tokens) {
        if (weight.shape().length != 2) {
            throw new IllegalArgumentException("Linear weight " + weight.name() + " must be 2-D, is " + weight.shapeString());
        }
        int rows = weight.rows();
        int cols = weight.cols();
        if (tokens < 1 || (long) tokens * cols > in.length || (long) tokens * rows > out.length) {
            throw new IllegalArgumentException("Linear " + weight.name() + " " + weight.shapeString() + ": tokens=" + tokens
                    + " needs in >= " + (long) tokens * cols + " (has " + in.length + ") and out >= "
                    + (long) tokens * rows + " (has " + out.length + ")");
        }
        LinearJob job = JOBS.get();
        job.prepare(weight, in, out, tokens);
        try {
            if ((long) rows * cols * tokens < PARALLEL_MIN_MACS) {
                job.run(0, rows);
            } else {
                pool.parallelFor(rows, job);
            }
        } finally {
            job.release();
        }
    }
}
