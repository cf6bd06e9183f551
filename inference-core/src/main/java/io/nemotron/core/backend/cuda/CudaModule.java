package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.CudaException.check;

import io.nemotron.cuda.KernelFatbin;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The kernel module loaded from the cuda-kernels fatbin, with every kernel of {@link KernelFatbin#KERNELS} resolved at
 * load time: a fatbin without SASS or PTX for this GPU, or a kernel missing from it, fails here, at start-up, rather
 * than at the first request (llama.cpp's supports_op habit).
 */
public final class CudaModule implements AutoCloseable {
    private final CUmodule module = new CUmodule();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private boolean unloaded;

    CudaModule(byte[] fatbin, List<String> kernels) {
        check(JCudaDriver.cuModuleLoadData(module, fatbin), "cuModuleLoadData(nemotron_kernels.fatbin, "
                + fatbin.length + " bytes; targets " + KernelFatbin.targets(fatbin) + ")");
        for (String name : kernels) {
            CUfunction f = new CUfunction();
            check(JCudaDriver.cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + name + ")");
            functions.put(name, f);
        }
    }

    /**
     * Launches {@code kernel} on the default stream with the given arguments, in the order of its C signature:
     * {@link DeviceBuffer} (or null) for pointers, Integer for int, Long for long long / uint64, Float for float.
     * Asynchronous: errors of the kernel itself surface at the next synchronising call.
     */
    public void launch(String kernel, int gridX, int gridY, int gridZ, int blockX, Object... args) {
        CUfunction f = functions.get(kernel);
        if (f == null) {
            throw new IllegalArgumentException("no kernel named " + kernel + " in the module (have " + functions.keySet() + ")");
        }
        if (unloaded) {
            throw new IllegalStateException("module unloaded");
        }
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case null -> Pointer.to(new CUdeviceptr());
                case DeviceBuffer b -> Pointer.to(b.pointer());
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                default -> throw new IllegalArgumentException("argument " + i + " of " + kernel + " has unsupported type "
                        + args[i].getClass().getSimpleName());
            };
        }
        check(JCudaDriver.cuLaunchKernel(f, gridX, gridY, gridZ, blockX, 1, 1, 0, (CUstream) null, Pointer.to(params),
                null), "cuLaunchKernel(" + kernel + ", grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + blockX + ")");
    }

    @Override
    public void close() {
        if (!unloaded) {
            unloaded = true;
            check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload(nemotron_kernels)");
        }
    }
}
