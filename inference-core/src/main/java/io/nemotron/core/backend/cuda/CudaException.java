package io.nemotron.core.backend.cuda;

import jcuda.driver.CUresult;

/**
 * A CUDA driver or cuBLAS call failed. The message names the operation (what we were doing, with its sizes or kernel
 * name) and the library's error name, e.g. {@code "cuMemAlloc(2147483648 bytes for KV pool) failed:
 * CUDA_ERROR_OUT_OF_MEMORY (2)"} or {@code "cublasGemmEx(layers.3.mlp.up_proj.weight, ...) failed:
 * CUBLAS_STATUS_INVALID_VALUE (7)"}, so a failure in the field can be read without a debugger.
 */
public final class CudaException extends RuntimeException {
    private final int code;
    private final String operation;
    private final String errorName;

    CudaException(String operation, int code) {
        this(operation, code, CUresult.stringFor(code));
    }

    /** A failure whose code belongs to another library (cuBLAS: {@link Cublas#statusName}). */
    CudaException(String operation, int code, String errorName) {
        super(operation + " failed: " + errorName + " (" + code + ")" + EmulatorDetail.lastError().map(d -> "; emulator: " + d)
                .orElse(""));
        this.code = code;
        this.operation = operation;
        this.errorName = errorName;
    }

    /** The CUresult code, or the cuBLAS status for a cuBLAS call. */
    public int code() {
        return code;
    }

    /** The library's name for it, e.g. CUDA_ERROR_OUT_OF_MEMORY or CUBLAS_STATUS_NOT_SUPPORTED. */
    public String errorName() {
        return errorName;
    }

    public String operation() {
        return operation;
    }

    /** Throws when {@code result} is not CUDA_SUCCESS. Every driver call goes through here. */
    static void check(int result, String operation) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaException(operation, result);
        }
    }
}
