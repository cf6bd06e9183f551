package io.nemotron.core.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * cuBLAS bound with {@code java.lang.foreign} by soname, so one jar runs with the CUDA 13 or the CUDA 12 libraries
 * (JCuda's own binding links exactly {@code libcublas.so.12}). Only what the CUDA backend needs: a handle on the
 * legacy default stream until {@link #setStream} puts it on the backend's stream (the one {@link CudaModule#launch}
 * uses, so GEMMs and kernels are ordered) and
 * {@code cublasGemmEx} with BF16 inputs and FP32 accumulation. Every call is checked; a failure is a
 * {@link CudaException} naming the operation and the {@code CUBLAS_STATUS_*} name. cuBLASLt is not used (yet).
 *
 * <p>cuBLAS uses the CUDA runtime, which attaches to the device's primary context: {@link CudaDevice} retains that
 * context and makes it current, so a handle created after {@code CudaDevice.open} works on the same allocations.
 * One handle per engine thread; not thread-safe.
 */
public final class Cublas implements AutoCloseable {

    /** Searched in this order: the newest supported major first. */
    public static final List<String> SONAMES = List.of("libcublas.so.13", "libcublas.so.12");

    // Enum values, checked against NVIDIA's headers and docs:
    //   cudaDataType_t (library_types.h of CUDA 13.0, /usr/local/cuda-13.0/include): CUDA_R_32F = 0, CUDA_R_16BF = 14.
    //   cublasOperation_t (cublas_api.h): CUBLAS_OP_N = 0, CUBLAS_OP_T = 1.
    //   cublasComputeType_t: CUBLAS_COMPUTE_32F = 68
    //     (https://docs.nvidia.com/cuda/nvmath-python/latest/bindings/generated/nvmath.bindings.cublas.ComputeType.html).
    //   cublasGemmAlgo_t: CUBLAS_GEMM_DEFAULT (= CUBLAS_GEMM_DFALT) = -1
    //     (https://docs.nvidia.com/cuda/nvmath-python/latest/bindings/generated/nvmath.bindings.cublas.GemmAlgo.html).
    //   cublasMath_t: CUBLAS_DEFAULT_MATH = 0
    //     (https://docs.nvidia.com/cuda/nvmath-python/latest/bindings/generated/nvmath.bindings.cublas.Math.html).
    // BF16 A and B with CUBLAS_COMPUTE_32F and a BF16 or FP32 C is among cublasGemmEx's supported type combinations
    // (cuBLAS guide, cublasGemmEx table; hipBLAS documents the same rows for its cuBLAS backend). A and B must have
    // the same type, which is why the activations fed to a GEMM are BF16.
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16BF = 14;
    static final int CUBLAS_OP_N = 0;
    static final int CUBLAS_OP_T = 1;
    static final int CUBLAS_COMPUTE_32F = 68;
    static final int CUBLAS_GEMM_DEFAULT = -1;
    static final int CUBLAS_DEFAULT_MATH = 0;

    /**
     * cublasStatus_t (cublas_api.h), as listed at
     * https://docs.nvidia.com/cuda/nvmath-python/latest/bindings/generated/nvmath.bindings.cublas.Status.html.
     */
    static String statusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "unknown cuBLAS status";
        };
    }

    static void check(int status, String operation) {
        if (status != 0) {
            throw new CudaException(operation, status, statusName(status));
        }
    }

    /** Opens a shared library by name (as dlopen would search for it); throws IllegalArgumentException when absent. */
    @FunctionalInterface
    interface LibraryOpener {
        SymbolLookup open(String soname, Arena arena);
    }

    /**
     * The first of {@code sonames} that {@code opener} can load. Fails naming every soname tried, so a machine without
     * cuBLAS says what it looked for.
     */
    static SymbolLookup find(List<String> sonames, Arena arena, LibraryOpener opener) {
        List<String> reasons = new ArrayList<>();
        for (String soname : sonames) {
            try {
                return opener.open(soname, arena);
            } catch (IllegalArgumentException e) {
                reasons.add(soname);
            }
        }
        throw new IllegalStateException("cuBLAS not found: tried " + String.join(", ", reasons)
                + " (install the CUDA 12 or 13 cuBLAS libraries, or put them on LD_LIBRARY_PATH)");
    }

    private final Arena arena = Arena.ofShared();
    private final String soname;
    private final MethodHandle destroy;
    private final MethodHandle gemmEx;
    private final MethodHandle setStream;
    private final MethodHandle setWorkspace;
    private final MemorySegment one;    // float 1.0f: alpha (pointer mode host, the default)
    private final MemorySegment alpha;  // a scaled GEMM's alpha: read by cublasGemmEx before it returns (host pointer mode)
    private final MemorySegment zero;   // float 0.0f: beta
    private final MemorySegment handle;
    private boolean closed;

    private Cublas(SymbolLookup lib, String soname) {
        this.soname = soname;
        Linker linker = Linker.nativeLinker();
        MethodHandle create = linker.downcallHandle(symbol(lib, "cublasCreate_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        this.destroy = linker.downcallHandle(symbol(lib, "cublasDestroy_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        this.setStream = linker.downcallHandle(symbol(lib, "cublasSetStream_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        // cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void *workspace, size_t workspaceSizeInBytes)
        this.setWorkspace = linker.downcallHandle(symbol(lib, "cublasSetWorkspace_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ValueLayout.JAVA_LONG));
        MethodHandle setMathMode = linker.downcallHandle(symbol(lib, "cublasSetMathMode"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        // cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
        //     int m, int n, int k, const void *alpha, const void *A, cudaDataType_t Atype, int lda,
        //     const void *B, cudaDataType_t Btype, int ldb, const void *beta, void *C, cudaDataType_t Ctype, int ldc,
        //     cublasComputeType_t computeType, cublasGemmAlgo_t algo)       -- every enum is a C int
        this.gemmEx = linker.downcallHandle(symbol(lib, "cublasGemmEx"), FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        this.one = arena.allocate(JAVA_FLOAT);
        one.set(JAVA_FLOAT, 0, 1f);
        this.alpha = arena.allocate(JAVA_FLOAT);
        this.zero = arena.allocate(JAVA_FLOAT);
        zero.set(JAVA_FLOAT, 0, 0f);
        MemorySegment out = arena.allocate(ADDRESS);
        check(invokeInt(create, out), "cublasCreate_v2 (" + soname + ")");
        this.handle = out.get(ADDRESS, 0);
        // NULL = the legacy default stream until the backend gives the handle its own stream (setStream)
        check(invokeInt(setStream, handle, MemorySegment.NULL), "cublasSetStream_v2(default stream)");
        // default math: BF16 inputs go to tensor cores with FP32 accumulation; no TF32 (that only affects FP32 GEMMs)
        check(invokeInt(setMathMode, handle, CUBLAS_DEFAULT_MATH), "cublasSetMathMode(CUBLAS_DEFAULT_MATH)");
    }

    /** Loads cuBLAS ({@link #SONAMES} in order) and creates a handle on the current context's device. */
    public static Cublas open() {
        Arena libs = Arena.global();   // a loaded cuBLAS stays loaded: unloading under live handles would crash
        List<String> tried = new ArrayList<>();
        SymbolLookup lib = find(SONAMES, libs, (name, arena) -> {
            SymbolLookup l = SymbolLookup.libraryLookup(name, arena);
            tried.add(name);
            return l;
        });
        return new Cublas(lib, tried.getLast());
    }

    /**
     * Orders every later GEMM on {@code stream} (a raw {@code cudaStream_t}; 0 = the legacy default stream): the
     * backend's own stream, so GEMMs, kernels and collectives of a step are ordered, and captured, together.
     */
    public void setStream(long stream) {
        check(invokeInt(setStream, handle, MemorySegment.ofAddress(stream)), "cublasSetStream_v2(" + stream + ")");
    }

    /**
     * Gives the handle {@code bytes} of device memory at {@code address} (256-byte aligned) as its workspace, so that
     * no GEMM allocates one: an allocation cannot be captured into a CUDA graph, and cuBLAS's guide asks for a
     * user-set workspace where GEMMs are captured.
     */
    public void setWorkspace(long address, long bytes) {
        check(invokeInt(setWorkspace, handle, MemorySegment.ofAddress(address), bytes),
                "cublasSetWorkspace_v2(" + bytes + " bytes)");
    }

    /** The soname that was loaded. */
    public String soname() {
        return soname;
    }

    private static MemorySegment symbol(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("cuBLAS has no symbol " + name));
    }

    private static int invokeInt(MethodHandle h, Object... args) {
        try {
            return (int) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * The cublasGemmEx arguments for a row-major linear layer, {@code out[t][r] = Σ_c W[r][c] · in[t][c]} for
     * {@code t < tokens}, {@code r < outFeatures}, {@code c < inFeatures}, with W row-major [outFeatures][inFeatures]
     * (as stored in the checkpoint), row t of {@code in} at {@code in + t·inStride} and of {@code out} at
     * {@code out + t·outStride}.
     *
     * <p>cuBLAS is column-major: a row-major [R][C] array with row stride ld is the column-major C×R matrix (its
     * transpose) with leading dimension ld. So W is Wᵀ (inFeatures × outFeatures, lda = inFeatures), {@code in} is
     * inᵀ (inFeatures × tokens, ldb = inStride) and {@code out} is outᵀ (outFeatures × tokens, ldc = outStride).
     * The layer is outᵀ = W · inᵀ, i.e. C = op(A) · op(B) with A = the stored Wᵀ and op(A) = transpose (giving W,
     * m = outFeatures, k = inFeatures) and B = inᵀ untransposed (n = tokens): transa = T, transb = N. No copy, no
     * transposed weight upload; decode (tokens = 1) is the same call.
     */
    record GemmArgs(int transa, int transb, int m, int n, int k, int lda, int ldb, int ldc) {
        static GemmArgs rowMajorLinear(int outFeatures, int inFeatures, int tokens, int inStride, int outStride) {
            if (inStride < inFeatures || outStride < outFeatures) {
                throw new IllegalArgumentException("row strides " + inStride + " / " + outStride
                        + " smaller than the widths " + inFeatures + " / " + outFeatures);
            }
            return new GemmArgs(CUBLAS_OP_T, CUBLAS_OP_N, outFeatures, tokens, inFeatures, inFeatures, inStride, outStride);
        }
    }

    /**
     * {@code out[t][r] = Σ_c W[r][c] · in[t][c]} (see {@link GemmArgs#rowMajorLinear}) with BF16 W and in, FP32
     * accumulation, and out in {@code outType} ({@link #CUDA_R_16BF} or {@link #CUDA_R_32F}). Device addresses.
     * Asynchronous on the handle's stream.
     */
    public void linear(long w, int outFeatures, int inFeatures, long in, int inStride, long out, int outStride,
                       int outType, int tokens, String what) {
        gemm(one, w, outFeatures, inFeatures, in, inStride, out, outStride, outType, tokens, what);
    }

    /**
     * As {@link #linear}, with the FP32 sum multiplied by {@code scale} before the one rounding to the output type
     * (cuBLAS's alpha: {@code out = scale · Σ_c W[r][c] · in[t][c]}): the FP8 path's input_scale · weight_scale. With
     * the host pointer mode cuBLAS reads alpha during the call, so a captured GEMM keeps the value it was given.
     */
    public void scaledLinear(float scale, long w, int outFeatures, int inFeatures, long in, int inStride, long out,
                             int outStride, int outType, int tokens, String what) {
        alpha.set(JAVA_FLOAT, 0, scale);
        gemm(alpha, w, outFeatures, inFeatures, in, inStride, out, outStride, outType, tokens, what);
    }

    private void gemm(MemorySegment alphaOnHost, long w, int outFeatures, int inFeatures, long in, int inStride,
                      long out, int outStride, int outType, int tokens, String what) {
        if (closed) {
            throw new IllegalStateException("cuBLAS handle closed");
        }
        GemmArgs g = GemmArgs.rowMajorLinear(outFeatures, inFeatures, tokens, inStride, outStride);
        int status;
        try {
            // invokeExact: no boxing on the hot path (hundreds of GEMMs per decode step)
            status = (int) gemmEx.invokeExact(handle, g.transa(), g.transb(), g.m(), g.n(), g.k(), alphaOnHost,
                    MemorySegment.ofAddress(w), CUDA_R_16BF, g.lda(), MemorySegment.ofAddress(in), CUDA_R_16BF, g.ldb(),
                    zero, MemorySegment.ofAddress(out), outType, g.ldc(), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        check(status, "cublasGemmEx(" + what + ": " + outFeatures + "x" + inFeatures + " by " + tokens + " tokens, out "
                + (outType == CUDA_R_32F ? "f32" : "bf16") + ")");
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                check(invokeInt(destroy, handle), "cublasDestroy_v2");
            } finally {
                arena.close();
            }
        }
    }
}
