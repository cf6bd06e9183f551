package io.nemotron.core.backend;

/**
 * Collective operations between the tensor-parallel ranks of one model. Every rank calls each operation in the same
 * order; a call returns once all ranks have made it.
 */
public interface Communicator {

    int rank();

    int size();

    /**
     * Replaces {@code buf[offset, offset + length)} on every rank with the element-wise sum over all ranks. The sum is
     * taken in rank order, so every rank gets the same bits.
     *
     * @throws CommunicatorException when another rank failed during the step (the group was aborted)
     */
    void allReduceSum(float[] buf, int offset, int length);
}
