package io.nemotron.core.backend.cuda;

import jcuda.driver.CUresult;

/**
 * A CUDA driver call failed. The message names the operation (what we were doing, with its sizes or kernel name)
 * and the driver's error name, e.g. {@code "cuMemAlloc(2147483648 bytes for KV pool) failed: CUDA_ERROR_OUT_OF_MEMORY
 * (2)"}, so a failure in the field can be read without a debugger.
 */
public final class CudaException extends RuntimeException {
    private final int code;
    private final String operation;

    CudaException(String operation, int code) {
        super(operation + " failed: " + CUresult.stringFor(code) + " (" + code + ")");
        this.code = code;
        this.operation = operation;
    }

    /** The CUresult code. */
    public int code() {
        return code;
    }

    /** The driver's name for it, e.g. CUDA_ERROR_OUT_OF_MEMORY. */
    public String errorName() {
        return CUresult.stringFor(code);
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
