package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The parts of the cuBLAS binding that need no GPU: library search, status names, the row-major GEMM mapping. */
class CublasTest {

    private static final String NOT_FOUND = "cuBLAS not found: tried libcublas.so.13, libcublas.so.12"
            + " (install the CUDA 12 or 13 cuBLAS libraries, or put them on LD_LIBRARY_PATH)";

    @Test
    void searchesCuda13FirstThenCuda12() {
        assertEquals(List.of("libcublas.so.13", "libcublas.so.12"), Cublas.SONAMES);
        List<String> tried = new ArrayList<>();
        SymbolLookup found = name -> java.util.Optional.empty();
        SymbolLookup got = Cublas.find(Cublas.SONAMES, Arena.global(), (name, arena) -> {
            tried.add(name);
            if (name.equals("libcublas.so.13")) {
                throw new IllegalArgumentException("Cannot open library: " + name);
            }
            return found;
        });
        assertSame(found, got);
        assertEquals(List.of("libcublas.so.13", "libcublas.so.12"), tried);
    }

    @Test
    void stopsAtTheFirstLibraryThatLoads() {
        List<String> tried = new ArrayList<>();
        Cublas.find(Cublas.SONAMES, Arena.global(), (name, arena) -> {
            tried.add(name);
            return n -> java.util.Optional.empty();
        });
        assertEquals(List.of("libcublas.so.13"), tried);
    }

    @Test
    void neitherLibraryNamesBothSonames() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Cublas.find(Cublas.SONAMES,
                Arena.global(), (name, arena) -> {
                    throw new IllegalArgumentException("Cannot open library: " + name);
                }));
        assertEquals(NOT_FOUND, e.getMessage());
    }

    @Test
    void theRealLoaderReportsAMissingLibraryTheSameWay() {
        // SymbolLookup.libraryLookup throws IllegalArgumentException for a library dlopen cannot find
        try (Arena arena = Arena.ofConfined()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Cublas.find(
                    List.of("libnemotron-absent.so.13", "libnemotron-absent.so.12"), arena, SymbolLookup::libraryLookup));
            assertEquals("cuBLAS not found: tried libnemotron-absent.so.13, libnemotron-absent.so.12"
                    + " (install the CUDA 12 or 13 cuBLAS libraries, or put them on LD_LIBRARY_PATH)", e.getMessage());
        }
    }

    @Test
    void statusNamesMatchCublasApiH() {
        // hand-copied from cublas_api.h's cublasStatus_t
        assertEquals("CUBLAS_STATUS_SUCCESS", Cublas.statusName(0));
        assertEquals("CUBLAS_STATUS_NOT_INITIALIZED", Cublas.statusName(1));
        assertEquals("CUBLAS_STATUS_ALLOC_FAILED", Cublas.statusName(3));
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", Cublas.statusName(7));
        assertEquals("CUBLAS_STATUS_ARCH_MISMATCH", Cublas.statusName(8));
        assertEquals("CUBLAS_STATUS_MAPPING_ERROR", Cublas.statusName(11));
        assertEquals("CUBLAS_STATUS_EXECUTION_FAILED", Cublas.statusName(13));
        assertEquals("CUBLAS_STATUS_INTERNAL_ERROR", Cublas.statusName(14));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", Cublas.statusName(15));
        assertEquals("CUBLAS_STATUS_LICENSE_ERROR", Cublas.statusName(16));
        assertEquals("unknown cuBLAS status", Cublas.statusName(2));
    }

    @Test
    void aFailedCallNamesTheOperationAndTheStatus() {
        Cublas.check(0, "fine");
        CudaException e = assertThrows(CudaException.class, () -> Cublas.check(15, "cublasGemmEx(up_proj)"));
        assertEquals("cublasGemmEx(up_proj) failed: CUBLAS_STATUS_NOT_SUPPORTED (15)", e.getMessage());
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", e.errorName());
        assertEquals(15, e.code());
        assertEquals("cublasGemmEx(up_proj)", e.operation());
    }

    @Test
    void enumValuesAsInTheHeaders() {
        // library_types.h (CUDA 13.0) and cublas_api.h, hand-copied
        assertEquals(0, Cublas.CUDA_R_32F);
        assertEquals(14, Cublas.CUDA_R_16BF);
        assertEquals(0, Cublas.CUBLAS_OP_N);
        assertEquals(1, Cublas.CUBLAS_OP_T);
        assertEquals(68, Cublas.CUBLAS_COMPUTE_32F);
        assertEquals(-1, Cublas.CUBLAS_GEMM_DEFAULT);
        assertEquals(0, Cublas.CUBLAS_DEFAULT_MATH);
    }

    /**
     * What cublasGemmEx computes for given arguments, by the BLAS definition: column-major
     * C[i + j·ldc] = Σ_l op(A)[i][l] · op(B)[l][j], op(X)[i][l] = X[i + l·ld] (N) or X[l + i·ld] (T).
     */
    private static void referenceGemm(Cublas.GemmArgs g, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff) {
        for (int j = 0; j < g.n(); j++) {
            for (int i = 0; i < g.m(); i++) {
                double sum = 0;
                for (int l = 0; l < g.k(); l++) {
                    float av = g.transa() == Cublas.CUBLAS_OP_N ? a[aOff + i + l * g.lda()] : a[aOff + l + i * g.lda()];
                    float bv = g.transb() == Cublas.CUBLAS_OP_N ? b[bOff + l + j * g.ldb()] : b[bOff + j + l * g.ldb()];
                    sum += (double) av * bv;
                }
                c[cOff + i + j * g.ldc()] = (float) sum;
            }
        }
    }

    @Test
    void rowMajorLinearMapsToTransposedColumnMajorGemm() {
        int outFeatures = 5;
        int inFeatures = 7;
        int tokens = 3;
        SplittableRandom r = new SplittableRandom(1);
        float[] w = new float[outFeatures * inFeatures];   // row-major [out][in], as in the checkpoint
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextDouble(-1, 1);
        }
        int inStride = 9;      // wider buffer rows than the input width
        int outStride = 11;    // e.g. writing a column slice of a hidden-wide buffer
        int outOffset = 4;     // the slice's first column
        float[] in = new float[tokens * inStride];
        for (int i = 0; i < in.length; i++) {
            in[i] = (float) r.nextDouble(-1, 1);
        }
        float[] got = new float[tokens * outStride];
        java.util.Arrays.fill(got, Float.NaN);
        Cublas.GemmArgs g = Cublas.GemmArgs.rowMajorLinear(outFeatures, inFeatures, tokens, inStride, outStride);
        referenceGemm(g, w, 0, in, 0, got, outOffset);
        for (int t = 0; t < tokens; t++) {
            for (int o = 0; o < outStride; o++) {
                if (o < outOffset || o >= outOffset + outFeatures) {
                    assertEquals(Float.NaN, got[t * outStride + o], "untouched column " + o + " of token " + t);
                    continue;
                }
                double expected = 0;
                for (int c = 0; c < inFeatures; c++) {
                    expected += (double) w[(o - outOffset) * inFeatures + c] * in[t * inStride + c];
                }
                assertEquals(expected, got[t * outStride + o], 1e-6, "out[" + t + "][" + o + "]");
            }
        }
    }

    @Test
    void stridesNarrowerThanTheWidthsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Cublas.GemmArgs.rowMajorLinear(4, 8, 1, 7, 4));
        assertThrows(IllegalArgumentException.class, () -> Cublas.GemmArgs.rowMajorLinear(4, 8, 1, 8, 3));
    }
}
