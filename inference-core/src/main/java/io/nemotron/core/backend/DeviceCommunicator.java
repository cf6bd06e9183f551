package io.nemotron.core.backend;

import io.nemotron.core.weights.DType;

/**
 * {@link Communicator}'s twin for GPU ranks: the same collectives, on device buffers, ordered on a CUDA stream. One
 * rank per GPU thread (DESIGN: one process, one thread and one CUDA context per GPU); every rank calls each
 * operation in the same order, with the same count and dtype, from its own thread with its context current.
 *
 * <p>Buffers and streams are raw addresses ({@code CUdeviceptr}, {@code CUstream} / {@code cudaStream_t}; 0 is the
 * legacy default stream): what NCCL takes, and what a JCuda handle is underneath (see
 * {@code io.nemotron.core.parallel.cuda.JCudaHandles}). A call returns once the collective is ordered on the stream;
 * work queued after it on the same stream sees the result.
 *
 * <p>Failures: a rank whose own call fails throws (an NCCL or CUDA error naming the operation). The step runner then
 * calls its group's {@link io.nemotron.core.parallel.DeviceGroup#abort()}, which makes every other rank's collective of that step fail too
 * with a {@link CommunicatorException}, as {@link io.nemotron.core.parallel.InProcessGroup#abort()} does for CPU ranks.
 */
public interface DeviceCommunicator {

    int rank();

    int size();

    /**
     * Changes whenever the communicator behind this one is replaced (a new NCCL group after an aborted step). Work
     * captured into a CUDA graph holds the communicator it was captured with, so a backend captures again when this
     * changes. Constant for a communicator that is never replaced.
     */
    default long generation() {
        return 0;
    }

    /**
     * {@code buf[0, count)} on every rank becomes the element-wise sum over all ranks (in place). F32 and BF16.
     *
     * @throws CommunicatorException when another rank failed during the step (the group was aborted)
     */
    void allReduceSum(long buf, long count, DType dtype, long stream);

    /**
     * Rank r's {@code send[0, count)} lands at {@code recv[r * count, (r + 1) * count)} on every rank ({@code recv}
     * holds {@code size() * count} elements). In place when {@code send == recv + rank() * count}.
     *
     * @throws CommunicatorException when another rank failed during the step (the group was aborted)
     */
    void allGather(long send, long recv, long count, DType dtype, long stream);
}
