package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.CudaException.check;

import io.nemotron.core.backend.cuda.KernelSignature.Kind;
import io.nemotron.cuda.KernelFatbin;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
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
    private CUstream stream;   // null: the legacy default stream (weight fills before a backend has its stream)

    CudaModule(byte[] fatbin, List<String> kernels) {
        check(JCudaDriver.cuModuleLoadData(module, fatbin), "cuModuleLoadData(nemotron_kernels.fatbin, "
                + fatbin.length + " bytes; targets " + KernelFatbin.targets(fatbin) + ")");
        for (String name : kernels) {
            CUfunction f = new CUfunction();
            check(JCudaDriver.cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + name + ")");
            functions.put(name, f);
        }
    }

    /** Orders every later launch on {@code s} (the owning backend's stream). */
    void launchOn(CudaStream s) {
        this.stream = s.handle();
    }

    /**
     * Launches {@code signature}'s kernel on the module's stream ({@link #launchOn}; the legacy default stream before). Only the typed launchers of this package call it
     * (RmsNormKernels, PagedAttentionKernels, ...): each owns its kernels' signatures and launch geometry. The
     * arguments must match the signature in count and kinds, and are packed at the widths it declares. Asynchronous:
     * errors of the kernel itself surface at the next synchronising call.
     */
    void launch(KernelSignature signature, LaunchGeometry geometry, KernelArgs args) {
        String kernel = signature.kernel();
        CUfunction f = functions.get(kernel);
        if (f == null) {
            throw new IllegalArgumentException("no kernel named " + kernel + " in the module (have " + functions.keySet() + ")");
        }
        if (unloaded) {
            throw new IllegalStateException("module unloaded");
        }
        signature.check(args);
        Pointer[] params = new Pointer[args.size()];
        for (int i = 0; i < params.length; i++) {
            params[i] = pack(signature.params().get(i).kind(), args.bits(i));
        }
        check(JCudaDriver.cuLaunchKernel(f, geometry.gridX(), geometry.gridY(), geometry.gridZ(), geometry.threads(), 1,
                1, 0, stream, Pointer.to(params), null), "cuLaunchKernel(" + kernel + ", " + geometry + ")");
    }

    /** One kernel parameter as cuLaunchKernel reads it: a pointer to a value of the parameter's width. */
    private static Pointer pack(Kind kind, long bits) {
        return switch (kind) {
            case PTR, LONG, U64 -> Pointer.to(new long[] {bits});
            case INT, U32 -> Pointer.to(new int[] {(int) bits});
            case FLOAT -> Pointer.to(new float[] {Float.intBitsToFloat((int) bits)});
        };
    }

    @Override
    public void close() {
        if (!unloaded) {
            unloaded = true;
            check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload(nemotron_kernels)");
        }
    }
}
