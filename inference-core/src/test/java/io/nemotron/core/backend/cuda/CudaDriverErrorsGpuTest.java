package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nemotron.cuda.KernelFatbin;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bad input to the driver fails loudly, as a {@link CudaException} naming the call: an oversized launch and an unknown
 * kernel name on any device; on the emulator also what a GPU would only report later as an illegal address (a copy past
 * the end of an allocation, a kernel pointer argument outside every allocation), with the emulator's explanation.
 */
@Tag("gpu")
class CudaDriverErrorsGpuTest {
    @RegisterExtension
    static final CudaTestDevice gpu = new CudaTestDevice();

    private static void assertMessage(CudaException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "\"" + e.getMessage() + "\" lacks \"" + part + "\"");
        }
    }

    @Test
    void oversizedLaunchNamesTheKernelAndItsGeometry() {
        try (DeviceBuffer acc = gpu.device().allocate(4096, "acc")) {
            CudaException e = assertThrows(CudaException.class, () -> gpu.kernels().launch(ElementwiseKernels.ADD_BF16,
                    LaunchGeometry.of(1, 2048), new KernelArgs().ptr(acc.address()).ptr(acc.address()).i64(8)));
            assertMessage(e, "cuLaunchKernel(add_bf16, grid 1x1x1, block 2048)", "CUDA_ERROR_INVALID_VALUE");
        }
    }

    @Test
    void unknownKernelNameNamesTheLookup() {
        CudaException e = assertThrows(CudaException.class,
                () -> new CudaModule(KernelFatbin.require(), List.of("rmsnorm_bf16", "no_such_kernel")));
        assertMessage(e, "cuModuleGetFunction(no_such_kernel)", "CUDA_ERROR_NOT_FOUND");
    }

    @Test
    void copyPastTheEndOfAnAllocationIsRefusedOnTheEmulator() {
        assumeTrue(gpu.device().emulated(), "a real driver does not check host-to-device copies against allocations");
        try (DeviceBuffer b = gpu.device().allocate(1024, "small")) {
            // DeviceBuffer's own range check would refuse first: call the driver directly, as a bug in it would
            CudaException e = assertThrows(CudaException.class, () -> CudaException.check(
                    JCudaDriver.cuMemcpyHtoD(b.pointer(), Pointer.to(new byte[2048]), 2048),
                    "cuMemcpyHtoD(2048 bytes into a 1024-byte buffer)"));
            assertMessage(e, "cuMemcpyHtoD(2048 bytes into a 1024-byte buffer)", "CUDA_ERROR_INVALID_VALUE",
                    "emulator: cuMemcpyHtoD", "outside the allocation");
            byte[] back = new byte[1025];
            CudaException d = assertThrows(CudaException.class, () -> CudaException.check(
                    JCudaDriver.cuMemcpyDtoH(Pointer.to(back), b.pointer(), 1025), "cuMemcpyDtoH(1025 bytes)"));
            assertMessage(d, "cuMemcpyDtoH(1025 bytes)", "CUDA_ERROR_INVALID_VALUE");
        }
    }

    @Test
    void kernelPointerOutsideEveryAllocationFailsTheLaunchOnTheEmulator() {
        assumeTrue(gpu.device().emulated(), "a GPU reports a stray pointer later, as an illegal address");
        try (DeviceBuffer acc = gpu.device().allocate(4096, "acc")) {
            long stray = acc.address() + (64L << 20);
            CudaException e = assertThrows(CudaException.class, () -> gpu.kernels().launch(ElementwiseKernels.ADD_BF16,
                    LaunchGeometry.of(1, 256), new KernelArgs().ptr(acc.address()).ptr(stray).i64(8)));
            assertMessage(e, "cuLaunchKernel(add_bf16", "CUDA_ERROR_INVALID_VALUE", "pointer parameter 1");
            // the launch was refused before it ran: the device is still usable
            gpu.device().synchronize("a refused launch");
        }
    }
}
