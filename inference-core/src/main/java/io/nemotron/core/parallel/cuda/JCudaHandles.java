package io.nemotron.core.parallel.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Raw addresses of JCuda handles, for native libraries bound with {@code java.lang.foreign} (NCCL) and the
 * {@link io.nemotron.core.backend.DeviceCommunicator} API, and back. JCuda keeps the address in a protected field of
 * {@link NativePointerObject} (plus a byte offset for {@link Pointer}s made by {@code withByteOffset}); a subclass
 * reads it without reflection, exactly as JCuda's own JNI code does when it passes the handle to the driver.
 */
public final class JCudaHandles {
    private JCudaHandles() {}

    /** The device address of {@code ptr} (its offset included): what NCCL's void* buffers take. */
    public static long address(CUdeviceptr ptr) {
        return new DevicePtr(ptr).address();
    }

    /** The raw value of a stream, context or other handle ({@code CUstream} is a {@code cudaStream_t}). */
    public static long handle(NativePointerObject object) {
        if (object == null) {
            return 0;   // JCuda's null stream is the legacy default stream
        }
        if (object instanceof Pointer) {
            throw new IllegalArgumentException("a device or host pointer has a byte offset: use address(CUdeviceptr)");
        }
        return new Handle(object).value();
    }

    /** A CUdeviceptr for a raw device address, for JCuda calls on memory that arrived as an address. */
    public static CUdeviceptr deviceptr(long address) {
        return new DevicePtr(new CUdeviceptr(), address);
    }

    private static final class DevicePtr extends CUdeviceptr {
        DevicePtr(CUdeviceptr p) {
            super(p);
        }

        DevicePtr(CUdeviceptr base, long offset) {
            super(base, offset);
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    private static final class Handle extends NativePointerObject {
        Handle(NativePointerObject o) {
            super(o);
        }

        long value() {
            return getNativePointer();
        }
    }
}
