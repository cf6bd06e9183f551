package io.nemotron.core.backend.cuda;

import io.nemotron.core.testing.CudaAvailability;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * GPU 0 (real, or the host emulator's) and the kernel module, shared by a CUDA test class: registered as
 * {@code @RegisterExtension static final CudaTestDevice gpu = new CudaTestDevice();}, it opens them before the class's
 * tests (skipping them without a device; failing instead in CI under the emulator, see CudaAvailability) and closes
 * them after, with uploads of test data into fresh device buffers.
 */
final class CudaTestDevice implements BeforeAllCallback, AfterAllCallback {
    private CudaDevice device;
    private CudaModule kernels;

    @Override
    public void beforeAll(ExtensionContext context) {
        CudaAvailability.assumeDevice();
        device = CudaDevice.open(0);
        kernels = device.loadKernels();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        try {
            if (kernels != null) {
                kernels.close();
            }
        } finally {
            if (device != null) {
                device.close();
            }
        }
    }

    CudaDevice device() {
        return device;
    }

    CudaModule kernels() {
        return kernels;
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

    DeviceBuffer upload(byte[] x, String what) {
        DeviceBuffer b = device.allocate(x.length, what);
        b.uploadAt(0, x, x.length);
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
}
