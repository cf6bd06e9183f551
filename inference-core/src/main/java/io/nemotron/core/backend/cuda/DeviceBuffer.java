package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.CudaException.check;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * One device allocation (cuMemAlloc: 256-byte aligned, which the kernels' 16-byte vector loads rely on) with checked
 * copies to and from Java arrays. BF16 data travels as {@code short[]} (the raw 16 bits). Synchronous copies: the
 * step inputs are small, and the only per-step download is the sampled ids.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CUdeviceptr ptr = new CUdeviceptr();
    private final long bytes;
    private final String what;
    private boolean freed;

    DeviceBuffer(long bytes, String what) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device buffer for " + what + " must have a positive size, got " + bytes);
        }
        check(JCudaDriver.cuMemAlloc(ptr, bytes), "cuMemAlloc(" + bytes + " bytes for " + what + ")");
        this.bytes = bytes;
        this.what = what;
    }

    public long bytes() {
        return bytes;
    }

    /** The device address, as a kernel argument. */
    CUdeviceptr pointer() {
        if (freed) {
            throw new IllegalStateException("device buffer for " + what + " was freed");
        }
        return ptr;
    }

    public void upload(float[] src) { upload(Pointer.to(src), (long) src.length * Sizeof.FLOAT); }
    public void upload(int[] src) { upload(Pointer.to(src), (long) src.length * Sizeof.INT); }
    public void upload(short[] src) { upload(Pointer.to(src), (long) src.length * Sizeof.SHORT); }
    public void upload(long[] src) { upload(Pointer.to(src), (long) src.length * Sizeof.LONG); }

    public void download(float[] dst) { download(Pointer.to(dst), (long) dst.length * Sizeof.FLOAT); }
    public void download(int[] dst) { download(Pointer.to(dst), (long) dst.length * Sizeof.INT); }
    public void download(short[] dst) { download(Pointer.to(dst), (long) dst.length * Sizeof.SHORT); }

    /** Sets every byte to {@code value}. */
    public void fill(byte value) {
        check(JCudaDriver.cuMemsetD8(pointer(), value, bytes), "cuMemsetD8(" + bytes + " bytes of " + what + ")");
    }

    private void upload(Pointer src, long n) {
        checkSize(n, "upload to");
        check(JCudaDriver.cuMemcpyHtoD(pointer(), src, n), "cuMemcpyHtoD(" + n + " bytes to " + what + ")");
    }

    private void download(Pointer dst, long n) {
        checkSize(n, "download from");
        check(JCudaDriver.cuMemcpyDtoH(dst, pointer(), n), "cuMemcpyDtoH(" + n + " bytes from " + what + ")");
    }

    private void checkSize(long n, String op) {
        if (n > bytes) {
            throw new IllegalArgumentException(op + " " + what + ": " + n + " bytes into a buffer of " + bytes);
        }
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            check(JCudaDriver.cuMemFree(ptr), "cuMemFree(" + bytes + " bytes of " + what + ")");
        }
    }
}
