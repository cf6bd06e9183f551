package io.nemotron.core.backend.cuda;

import io.nemotron.core.testing.CudaAvailability;

/**
 * GPU 0 (real, or the host emulator's) and the kernel module, as a CUDA test class shares them from its
 * {@code @BeforeAll} to its {@code @AfterAll}, with uploads of test data into fresh device buffers.
 */
final class CudaTestDevice implements AutoCloseable {
    final CudaDevice device;
    final CudaModule kernels;

    private CudaTestDevice(CudaDevice device, CudaModule kernels) {
        this.device = device;
        this.kernels = kernels;
    }

    /** Skips the calling test class without a device (fails instead in CI under the emulator: CudaAvailability). */
    static CudaTestDevice open() {
        CudaAvailability.assumeDevice();
        CudaDevice device = CudaDevice.open(0);
        try {
            return new CudaTestDevice(device, device.loadKernels());
        } catch (RuntimeException | Error e) {
            device.close();
            throw e;
        }
    }

    DeviceBuffer upload(float[] x, String what) {
        DeviceBuffer b = device.allocate((long) x.length * 4, what);
        b.upload(x);
        return b;
    }

    DeviceBuffer upload(short[] x, String what) {
        DeviceBuffer b = device.allocate((long) x.length * 2, what);
        b.upload(x);
        return b;
    }

    DeviceBuffer upload(int[] x, String what) {
        DeviceBuffer b = device.allocate((long) x.length * 4, what);
        b.upload(x);
        return b;
    }

    DeviceBuffer upload(long[] x, String what) {
        DeviceBuffer b = device.allocate((long) x.length * 8, what);
        b.upload(x);
        return b;
    }

    @Override
    public void close() {
        try {
            kernels.close();
        } finally {
            device.close();
        }
    }
}
