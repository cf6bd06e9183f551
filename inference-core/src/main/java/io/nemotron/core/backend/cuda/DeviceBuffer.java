package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.CudaException.check;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * One device allocation (cuMemAlloc: 256-byte aligned, which the kernels' 16-byte vector loads rely on) with checked
 * copies to and from Java arrays. BF16 data travels as {@code short[]} (the raw 16 bits). The copies from Java arrays
 * are synchronous (on the legacy stream: uploads of weights and tables outside the step path); the step path copies
 * asynchronously from {@link PinnedHost} memory on the backend's {@link CudaStream}.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final AddressedDevicePtr ptr = new AddressedDevicePtr();
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

    /**
     * The raw device address, for libraries bound through {@code java.lang.foreign} (cuBLAS) and for kernel arguments
     * that point into the middle of a buffer (passed as Long: a device pointer argument is 8 bytes).
     */
    public long address() {
        pointer();   // not freed
        return ptr.address();
    }

    /** Uploads {@code count} values of {@code src} to byte offset {@code byteOffset} of this buffer. */
    public void uploadAt(long byteOffset, short[] src, int count) {
        copyIn(byteOffset, Pointer.to(src), (long) count * Sizeof.SHORT);
    }

    public void uploadAt(long byteOffset, byte[] src, int count) {
        copyIn(byteOffset, Pointer.to(src), count);
    }

    public void uploadAt(long byteOffset, int[] src, int count) {
        copyIn(byteOffset, Pointer.to(src), (long) count * Sizeof.INT);
    }

    public void uploadAt(long byteOffset, float[] src, int count) {
        copyIn(byteOffset, Pointer.to(src), (long) count * Sizeof.FLOAT);
    }

    /** Downloads {@code count} floats from byte offset {@code byteOffset} into {@code dst[dstOffset ..]}. */
    public void downloadAt(long byteOffset, float[] dst, int dstOffset, int count) {
        long n = (long) count * Sizeof.FLOAT;
        checkRange(byteOffset, n, "download from");
        if (dstOffset < 0 || dstOffset + count > dst.length) {
            throw new IllegalArgumentException("download from " + what + ": " + count + " floats at " + dstOffset
                    + " do not fit an array of " + dst.length);
        }
        check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) dstOffset * Sizeof.FLOAT),
                pointer().withByteOffset(byteOffset), n), "cuMemcpyDtoH(" + n + " bytes at " + byteOffset + " of " + what + ")");
    }

    /** Downloads {@code count} ints from byte offset {@code byteOffset} into {@code dst[dstOffset ..]}. */
    public void downloadAt(long byteOffset, int[] dst, int dstOffset, int count) {
        long n = (long) count * Sizeof.INT;
        checkRange(byteOffset, n, "download from");
        if (dstOffset < 0 || dstOffset + count > dst.length) {
            throw new IllegalArgumentException("download from " + what + ": " + count + " ints at " + dstOffset
                    + " do not fit an array of " + dst.length);
        }
        check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) dstOffset * Sizeof.INT),
                pointer().withByteOffset(byteOffset), n), "cuMemcpyDtoH(" + n + " bytes at " + byteOffset + " of " + what + ")");
    }

    /** Sets {@code bytes} bytes from {@code byteOffset} to zero. */
    public void zero(long byteOffset, long n) {
        checkRange(byteOffset, n, "zero");
        check(JCudaDriver.cuMemsetD8(pointer().withByteOffset(byteOffset), (byte) 0, n),
                "cuMemsetD8(" + n + " bytes at " + byteOffset + " of " + what + ")");
    }

    /**
     * Copies {@code n} bytes from {@code src} (pinned, from {@code srcOffset}) to {@code byteOffset} of this buffer in
     * {@code stream}'s order; returns at once. {@code src} must not be rewritten until the stream has passed the copy.
     */
    void uploadAsync(long byteOffset, PinnedHost src, long srcOffset, long n, CudaStream stream) {
        checkRange(byteOffset, n, "upload to");
        checkHost(src, srcOffset, n);
        check(JCudaDriver.cuMemcpyHtoDAsync(pointer().withByteOffset(byteOffset), src.at(srcOffset), n, stream.handle()),
                "cuMemcpyHtoDAsync(" + n + " bytes at " + byteOffset + " of " + what + ")");
    }

    /** Copies {@code n} bytes from {@code byteOffset} into pinned {@code dst} at {@code dstOffset}, in stream order. */
    void downloadAsync(long byteOffset, PinnedHost dst, long dstOffset, long n, CudaStream stream) {
        checkRange(byteOffset, n, "download from");
        checkHost(dst, dstOffset, n);
        check(JCudaDriver.cuMemcpyDtoHAsync(dst.at(dstOffset), pointer().withByteOffset(byteOffset), n, stream.handle()),
                "cuMemcpyDtoHAsync(" + n + " bytes at " + byteOffset + " of " + what + ")");
    }

    /** Sets {@code n} bytes from {@code byteOffset} to zero, in stream order (capturable, unlike {@link #zero}). */
    void zeroAsync(long byteOffset, long n, CudaStream stream) {
        checkRange(byteOffset, n, "zero");
        check(JCudaDriver.cuMemsetD8Async(pointer().withByteOffset(byteOffset), (byte) 0, n, stream.handle()),
                "cuMemsetD8Async(" + n + " bytes at " + byteOffset + " of " + what + ")");
    }

    private void checkHost(PinnedHost host, long offset, long n) {
        if (offset < 0 || n < 0 || offset + n > host.bytes()) {
            throw new IllegalArgumentException("copy of " + n + " bytes at " + offset + " of a pinned buffer of "
                    + host.bytes() + " bytes (device side: " + what + ")");
        }
    }

    private void copyIn(long byteOffset, Pointer src, long n) {
        checkRange(byteOffset, n, "upload to");
        check(JCudaDriver.cuMemcpyHtoD(pointer().withByteOffset(byteOffset), src, n),
                "cuMemcpyHtoD(" + n + " bytes at " + byteOffset + " of " + what + ")");
    }

    private void checkRange(long byteOffset, long n, String op) {
        if (byteOffset < 0 || n < 0 || byteOffset + n > bytes) {
            throw new IllegalArgumentException(op + " " + what + ": " + n + " bytes at offset " + byteOffset
                    + " outside a buffer of " + bytes);
        }
    }

    public void upload(float[] src) { upload(Pointer.to(src), (long) src.length * Sizeof.FLOAT); }
    public void upload(int[] src) { upload(Pointer.to(src), (long) src.length * Sizeof.INT); }
    public void upload(short[] src) { upload(Pointer.to(src), (long) src.length * Sizeof.SHORT); }
    public void upload(long[] src) { upload(Pointer.to(src), (long) src.length * Sizeof.LONG); }

    public void download(float[] dst) { download(Pointer.to(dst), (long) dst.length * Sizeof.FLOAT); }
    public void download(int[] dst) { download(Pointer.to(dst), (long) dst.length * Sizeof.INT); }
    public void download(short[] dst) { download(Pointer.to(dst), (long) dst.length * Sizeof.SHORT); }
    public void download(byte[] dst) { download(Pointer.to(dst), dst.length); }

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

    /**
     * JCuda keeps the address in NativePointerObject's private field and exposes it only through the protected
     * {@code getNativePointer()}; CUdeviceptr is not final, so this subclass (filled in by cuMemAlloc like any
     * CUdeviceptr) reads it without reflection. The byte offset of {@code withByteOffset} views is separate and zero
     * here, so this is the allocation's base address.
     */
    static final class AddressedDevicePtr extends CUdeviceptr {
        long address() {
            return getNativePointer();
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
