package io.nemotron.core.parallel;

import io.nemotron.core.backend.DeviceCommunicator;

/**
 * The ranks of one tensor-parallel model on GPUs: NCCL across GPUs ({@code parallel.nccl.NcclGroup}), or several
 * ranks on one GPU for tests ({@code parallel.cuda.LoopbackGroup}).
 */
public interface DeviceGroup extends AutoCloseable {

    int size();

    /** The communicator of {@code rank}, to be used by that rank's thread only. */
    DeviceCommunicator member(int rank);

    /**
     * A rank failed during the step: every rank's pending or later collective of the step fails with a
     * {@link CommunicatorException} instead of waiting for the failed rank forever. Callable from any thread. Whether
     * the group can run the next step afterwards depends on the implementation (an aborted NCCL communicator cannot).
     */
    void abort();

    /** Whether {@link #abort()} leaves the group usable for the next step. */
    boolean reusableAfterAbort();

    /**
     * Opens the next step after an {@link #abort()}, once every rank has returned from the aborted one; throws
     * {@link IllegalStateException} where the group is not {@linkplain #reusableAfterAbort() reusable} and was aborted.
     */
    void reset();

    @Override
    void close();
}
