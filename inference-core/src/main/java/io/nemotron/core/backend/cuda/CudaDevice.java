package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.CudaException.check;

import io.nemotron.cuda.KernelFatbin;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * One GPU through JCuda's driver API: its primary context (the one the CUDA runtime, cuBLAS and NCCL use too, so
 * all of them share allocations and streams), made current on the thread that opens it. The engine thread owns the
 * device; another thread must call {@link #makeCurrent()} before touching it.
 */
public final class CudaDevice implements AutoCloseable {
    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final String name;
    private final int computeCapability;
    private final long totalMemory;
    private boolean closed;
    /** The device whose context this thread last made current through {@link #makeCurrent()}. */
    private static final ThreadLocal<CudaDevice> CURRENT = new ThreadLocal<>();

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        check(JCudaDriver.cuInit(0), "cuInit");
        int[] count = new int[1];
        check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count[0]) {
            throw new IllegalArgumentException("GPU " + ordinal + " requested, this machine has " + count[0]);
        }
        check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        byte[] raw = new byte[256];
        check(JCudaDriver.cuDeviceGetName(raw, raw.length, device), "cuDeviceGetName(" + ordinal + ")");
        int len = 0;
        while (len < raw.length && raw[len] != 0) {
            len++;
        }
        this.name = new String(raw, 0, len, StandardCharsets.US_ASCII);
        this.computeCapability = 10 * attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "compute capability major")
                + attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "compute capability minor");
        long[] total = new long[1];
        check(JCudaDriver.cuDeviceTotalMem(total, device), "cuDeviceTotalMem(" + ordinal + ")");
        this.totalMemory = total[0];
        check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
        makeCurrent();
    }

    /** Opens GPU {@code ordinal}; fails with a {@link CudaException} naming the call, or a LinkageError without libcuda. */
    public static CudaDevice open(int ordinal) {
        return new CudaDevice(ordinal);
    }

    /**
     * Why no GPU can be used here, or empty when GPU 0 can: JCuda's native library or libcuda missing, no driver, no
     * device. Loading JCuda only happens here, so a CPU-only process never touches it.
     */
    public static Optional<String> unavailableReason() {
        try {
            int result = JCudaDriver.cuInit(0);
            if (result != 0) {
                // under the emulator its detail names the cause (e.g. a malformed NEMOTRON_CUDA_EMULATOR_FAULTS)
                return Optional.of("cuInit failed: " + jcuda.driver.CUresult.stringFor(result)
                        + EmulatorDetail.lastError().map(d -> "; emulator: " + d).orElse(""));
            }
            int[] count = new int[1];
            result = JCudaDriver.cuDeviceGetCount(count);
            if (result != 0) {
                return Optional.of("cuDeviceGetCount failed: " + jcuda.driver.CUresult.stringFor(result));
            }
            return count[0] > 0 ? Optional.empty() : Optional.of("the CUDA driver reports no GPU");
        } catch (LinkageError e) {
            return Optional.of("JCuda could not load its native library or libcuda: " + rootCause(e));
        }
    }

    /**
     * One line: JCuda's load failure carries every attempt's stack trace in its message; the innermost
     * UnsatisfiedLinkError says what is missing (e.g. {@code libcuda.so.1: cannot open shared object file}).
     */
    static String rootCause(LinkageError e) {
        String message = String.valueOf(e.getMessage());
        String last = null;
        for (String line : message.lines().toList()) {
            int at = line.indexOf("UnsatisfiedLinkError: ");
            if (at >= 0) {
                last = line.substring(at + "UnsatisfiedLinkError: ".length()).strip();
            }
        }
        return last != null ? last : message.lines().findFirst().orElse(e.getClass().getSimpleName()).strip();
    }

    public void makeCurrent() {
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent(GPU " + ordinal + ")");
        CURRENT.set(this);
    }

    /**
     * Makes this device's context current on the calling thread unless this thread's last {@link #makeCurrent()} was
     * for this device (a thread-local identity check): several devices may be used from one thread, as the
     * tensor-parallel ranks are from the engine thread, and one device from several threads.
     */
    public void ensureCurrent() {
        if (CURRENT.get() != this) {
            makeCurrent();
        }
    }

    /** CUDA ordinal of this device. */
    public int ordinal() {
        return ordinal;
    }

    /** Loads the cuda-kernels fatbin and resolves every kernel (fails naming what is missing). */
    public CudaModule loadKernels() {
        return new CudaModule(KernelFatbin.require(), KernelFatbin.KERNELS);
    }

    public DeviceBuffer allocate(long bytes, String what) {
        return new DeviceBuffer(bytes, what);
    }

    /** Waits for all queued work; a kernel's own failure (illegal address, ...) is reported here. */
    public void synchronize(String after) {
        check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize(after " + after + ")");
    }

    /** Free device memory now, as the driver reports it (what the memory planner's budget is checked against). */
    public long freeMemory() {
        // cuMemGetInfo answers for the current context: this device's, also on a thread that holds several
        ensureCurrent();
        long[] free = new long[1];
        long[] total = new long[1];
        check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo(GPU " + ordinal + ")");
        return free[0];
    }

    public String name() {
        return name;
    }

    /**
     * True on the host emulator (cuda-kernels/build-emulator.sh), whose devices name themselves "... (emulated)": the
     * only way the driver API lets a caller tell, and the emulator is only ever on the library path by
     * NEMOTRON_CUDA_EMULATOR=1.
     */
    public boolean emulated() {
        return name.endsWith("(emulated)");
    }

    /** 80 for sm_80, 90 for sm_90. */
    public int computeCapability() {
        return computeCapability;
    }

    public long totalMemory() {
        return totalMemory;
    }

    /** Peak memory clock in kHz (CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE); HBM transfers twice per clock. */
    public int memoryClockKHz() {
        return attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, "memory clock rate");
    }

    /** Memory bus width in bits (CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH). */
    public int memoryBusWidthBits() {
        return attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, "global memory bus width");
    }

    private int attribute(int attribute, String what) {
        int[] v = new int[1];
        check(JCudaDriver.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute(" + what + ")");
        return v[0];
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (CURRENT.get() == this) {
                CURRENT.remove();
            }
            check(JCudaDriver.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease(" + ordinal + ")");
        }
    }
}
