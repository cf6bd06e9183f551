package io.nemotron.core.parallel.nccl;

/** The built-in {@code ncclRedOp_t} values, copied from NCCL's src/nccl.h.in (NVIDIA/nccl, "Reduction operation selector"). */
public enum NcclRedOp {
    SUM(0, "ncclSum"),
    PROD(1, "ncclProd"),
    MAX(2, "ncclMax"),
    MIN(3, "ncclMin"),
    AVG(4, "ncclAvg");

    private final int code;
    private final String cName;

    NcclRedOp(int code, String cName) {
        this.code = code;
        this.cName = cName;
    }

    public int code() {
        return code;
    }

    public String cName() {
        return cName;
    }
}
