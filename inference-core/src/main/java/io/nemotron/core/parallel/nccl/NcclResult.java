package io.nemotron.core.parallel.nccl;

/**
 * {@code ncclResult_t}, copied from NCCL's src/nccl.h.in (NVIDIA/nccl, "Error type"). Older libraries stop earlier
 * (ncclRemoteError arrived in 2.13, ncclInProgress in 2.14, ncclTimeout later): a code this enum does not know is
 * still reported, by number, with the library's own ncclGetErrorString text.
 */
public enum NcclResult {
    SUCCESS(0, "ncclSuccess"),
    UNHANDLED_CUDA_ERROR(1, "ncclUnhandledCudaError"),
    SYSTEM_ERROR(2, "ncclSystemError"),
    INTERNAL_ERROR(3, "ncclInternalError"),
    INVALID_ARGUMENT(4, "ncclInvalidArgument"),
    INVALID_USAGE(5, "ncclInvalidUsage"),
    REMOTE_ERROR(6, "ncclRemoteError"),
    IN_PROGRESS(7, "ncclInProgress"),
    TIMEOUT(8, "ncclTimeout");

    private final int code;
    private final String cName;

    NcclResult(int code, String cName) {
        this.code = code;
        this.cName = cName;
    }

    public int code() {
        return code;
    }

    /** The header's name, e.g. ncclInvalidArgument. */
    public String cName() {
        return cName;
    }

    /** The header's name for {@code code}; "unknown ncclResult_t" for a code newer than this enum (printed beside it). */
    public static String nameOf(int code) {
        for (NcclResult r : values()) {
            if (r.code == code) {
                return r.cName;
            }
        }
        return "unknown ncclResult_t";
    }
}
