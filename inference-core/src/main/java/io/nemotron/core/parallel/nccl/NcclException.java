package io.nemotron.core.parallel.nccl;

/**
 * An NCCL call failed. The message names the operation (with its sizes, types and rank), the ncclResult_t name and
 * the library's own ncclGetErrorString text, e.g. {@code "ncclAllReduce(4096 x ncclBfloat16, ncclSum; rank 3 of 8)
 * failed: ncclUnhandledCudaError (1): unhandled cuda error (run with NCCL_DEBUG=INFO for details)"}.
 */
public final class NcclException extends RuntimeException {
    private final int code;
    private final String operation;

    public NcclException(String operation, int code, String errorString) {
        super(operation + " failed: " + NcclResult.nameOf(code) + " (" + code + ")"
                + (errorString == null || errorString.isEmpty() ? "" : ": " + errorString));
        this.code = code;
        this.operation = operation;
    }

    /** The ncclResult_t value. */
    public int code() {
        return code;
    }

    /** The header's name for the code, e.g. ncclInvalidUsage. */
    public String errorName() {
        return NcclResult.nameOf(code);
    }

    public String operation() {
        return operation;
    }
}
