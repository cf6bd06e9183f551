package io.nemotron.core.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nemotron.core.backend.cuda.CudaDevice;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether the CUDA tests can run here: on a real GPU (the GPU bundle), or on the host emulator (the Maven run
 * "emulated-cuda" sets {@code NEMOTRON_CUDA_EMULATOR=1} and puts its libraries on the library path). Without either the
 * tests skip with the reason, except under the emulator in CI ({@code CI=true}), where a missing emulator is a failure:
 * CI must execute the CUDA path, not skip it.
 */
public final class CudaAvailability {
    private CudaAvailability() {}

    public static void assumeDevice() {
        Optional<String> why = CudaDevice.unavailableReason();
        require(why.isEmpty(), () -> "no GPU: " + why.orElse(""));
    }

    /**
     * Skips the calling test where {@code present} is false, with the reason; fails instead under the emulator in CI
     * (NEMOTRON_CUDA_EMULATOR=1 and CI=true), where .ci/run has built the emulator and every CUDA test must run.
     */
    public static void require(boolean present, Supplier<String> why) {
        if (!present && "1".equals(System.getenv("NEMOTRON_CUDA_EMULATOR")) && "true".equals(System.getenv("CI"))) {
            fail("CI=true and NEMOTRON_CUDA_EMULATOR=1, but " + why.get()
                    + " (is cuda-kernels/target/emulator/lib built? see cuda-kernels/build-emulator.sh)");
        }
        assumeTrue(present, why);
    }
}
