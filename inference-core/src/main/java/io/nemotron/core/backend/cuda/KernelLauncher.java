package io.nemotron.core.backend.cuda;

/**
 * Where the typed launchers send their launches: {@link CudaModule}'s launch on a GPU, a recorder in the tests that
 * check each launcher's arguments and geometry without one.
 */
@FunctionalInterface
interface KernelLauncher {
    void launch(KernelSignature kernel, LaunchGeometry geometry, KernelArgs args);
}
