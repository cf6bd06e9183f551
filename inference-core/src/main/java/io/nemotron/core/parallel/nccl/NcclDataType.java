package io.nemotron.core.parallel.nccl;

import io.nemotron.core.weights.DType;

/**
 * {@code ncclDataType_t}, copied from NCCL's src/nccl.h.in (NVIDIA/nccl, "Data types"); ncclBfloat16 needs NCCL
 * 2.10 or newer (and sm_80 for the reduction kernels). The aliases (ncclChar, ncclInt, ncclHalf, ncclFloat,
 * ncclDouble) share these values. FP8 types are left out: the model never all-reduces FP8.
 */
public enum NcclDataType {
    INT8(0, "ncclInt8", 1),
    UINT8(1, "ncclUint8", 1),
    INT32(2, "ncclInt32", 4),
    UINT32(3, "ncclUint32", 4),
    INT64(4, "ncclInt64", 8),
    UINT64(5, "ncclUint64", 8),
    FLOAT16(6, "ncclFloat16", 2),
    FLOAT32(7, "ncclFloat32", 4),
    FLOAT64(8, "ncclFloat64", 8),
    BFLOAT16(9, "ncclBfloat16", 2);

    private final int code;
    private final String cName;
    private final int bytes;

    NcclDataType(int code, String cName, int bytes) {
        this.code = code;
        this.cName = cName;
        this.bytes = bytes;
    }

    public int code() {
        return code;
    }

    public String cName() {
        return cName;
    }

    public int bytes() {
        return bytes;
    }

    /** The NCCL type of a tensor element type. */
    public static NcclDataType of(DType dtype) {
        return switch (dtype) {
            case F32 -> FLOAT32;
            case BF16 -> BFLOAT16;
            case F16 -> FLOAT16;
            case F8_E4M3 -> throw new IllegalArgumentException("no NCCL reduction is made over FP8 weights");
        };
    }
}
