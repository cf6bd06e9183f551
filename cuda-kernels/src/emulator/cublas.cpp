// Emulated cuBLAS (libcublas.so.13): the handle calls and cublasGemmEx of the cuBLAS v2 C API, computed on the host
// over the emulated driver's device memory (device pointers are host addresses here; every one is checked against the
// driver's allocation table before it is touched).
//
// Contract followed: the cuBLAS library guide, "cublasGemmEx" and "cuBLAS helper functions" (CUDA 13), which follows
// the reference BLAS xGEMM for the meaning of m, n, k, op(), lda/ldb/ldc, alpha and beta:
//   C = alpha * op(A) * op(B) + beta * C, column-major, op(A) m x k, op(B) k x n, C m x n.
// Numerics of this emulator (documented because a GPU's tensor cores sum in another order and may fuse):
//   every product a*b is a float multiply of the two inputs widened to float, added to a float sum that starts at +0.0f
//   in increasing k order (this file must be compiled with -ffp-contract=off, so no FMA contraction); then
//   r = alpha * sum, and when beta != 0, r = r + beta * C_old (float multiply, then add); r is rounded once to Ctype
//   (BF16/FP16 round-to-nearest-even via cuda_bf16.h / cuda_fp16.h). beta == 0 never reads C (BLAS: "when BETA is
//   zero, C need not be set on input"). k == 0 or alpha == 0 gives C = beta * C without reading A or B (reference BLAS
//   xGEMM; C = 0 when beta == 0); m == 0 or n == 0 returns at once and touches nothing.
// Pointer mode is always CUBLAS_POINTER_MODE_HOST (the default; cublasSetPointerMode is not exported), so alpha and
// beta are host floats (the scale type of CUBLAS_COMPUTE_32F).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "emu_api.h"

#define EMU_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

// cublasStatus_t (cublas_api.h)
constexpr int CUBLAS_STATUS_SUCCESS = 0;
constexpr int CUBLAS_STATUS_NOT_INITIALIZED = 1;
constexpr int CUBLAS_STATUS_ALLOC_FAILED = 3;
constexpr int CUBLAS_STATUS_INVALID_VALUE = 7;
constexpr int CUBLAS_STATUS_ARCH_MISMATCH = 8;
constexpr int CUBLAS_STATUS_MAPPING_ERROR = 11;
constexpr int CUBLAS_STATUS_EXECUTION_FAILED = 13;
constexpr int CUBLAS_STATUS_INTERNAL_ERROR = 14;
constexpr int CUBLAS_STATUS_NOT_SUPPORTED = 15;
constexpr int CUBLAS_STATUS_LICENSE_ERROR = 16;

// cublasOperation_t: N, T, C (= CUBLAS_OP_HERMITAN); CUBLAS_OP_CONJG (3) is not valid for GEMM.
constexpr int OP_N = 0;
constexpr int OP_T = 1;
constexpr int OP_C = 2;

// cudaDataType_t (library_types.h)
constexpr int CUDA_R_32F = 0;
constexpr int CUDA_R_16F = 2;
constexpr int CUDA_R_16BF = 14;

// cublasComputeType_t
constexpr int CUBLAS_COMPUTE_32F = 68;

// cublasMath_t: DEFAULT 0, TENSOR_OP 1 (deprecated), PEDANTIC 2, TF32_TENSOR_OP 3, optionally or-ed with
// CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION (16).
constexpr int CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16;

// cuBLAS 13.0.0 as CUBLAS_VERSION encodes it (major * 10000 + minor * 100 + patch).
constexpr int EMULATED_CUBLAS_VERSION = 130000;

// CUresult values returned by the enqueued work (cuda.h).
constexpr int CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr int CUDA_ERROR_ILLEGAL_ADDRESS = 700;

struct Handle {
  void* stream = nullptr;  // cudaStream_t; null = the legacy default stream (cuBLAS's default)
  int math_mode = 0;
  int device = -1;  // the current device at cublasCreate; -1 when none was current (then not checked)
  void* workspace = nullptr;   // cublasSetWorkspace_v2's buffer (stored and checked; the emulated GEMM needs none)
  size_t workspace_bytes = 0;
};

// Handles are opaque numbers, never reused, so that a destroyed handle is recognised as such (a freed pointer could
// come back from malloc as a new handle and make use-after-destroy silently work).
std::mutex g_handles_mu;
std::unordered_map<uintptr_t, Handle> g_handles;
uintptr_t g_next_handle = 0x0c0b1a5000000010ull;

bool lookup(void* handle, Handle* out) {
  std::lock_guard<std::mutex> lock(g_handles_mu);
  auto it = g_handles.find(reinterpret_cast<uintptr_t>(handle));
  if (it == g_handles.end()) return false;
  if (out != nullptr) *out = it->second;
  return true;
}

int not_initialized(const char* call, void* handle) {
  nemotronEmuSetLastError("%s: handle %p is not a live cuBLAS handle (null, never created, or destroyed)", call,
                          handle);
  return CUBLAS_STATUS_NOT_INITIALIZED;
}

const char* type_name(int t) {
  switch (t) {
    case CUDA_R_32F: return "CUDA_R_32F";
    case CUDA_R_16F: return "CUDA_R_16F";
    case CUDA_R_16BF: return "CUDA_R_16BF";
    default: return "an unsupported cudaDataType";
  }
}

size_t type_size(int t) { return t == CUDA_R_32F ? 4 : 2; }

char op_char(int op) { return op == OP_N ? 'N' : op == OP_T ? 'T' : 'C'; }

// The cublasGemmEx type table rows this emulator implements (cuBLAS guide, cublasGemmEx, computeType
// CUBLAS_COMPUTE_32F with scale type CUDA_R_32F): A and B of one type, and
//   CUDA_R_16BF -> C CUDA_R_16BF or CUDA_R_32F;  CUDA_R_16F -> C CUDA_R_16F or CUDA_R_32F;  CUDA_R_32F -> C CUDA_R_32F.
// Every other combination (FP32 inputs with a 16-bit C, BF16 inputs with an FP16 C, mixed A/B, INT8, complex) is
// CUBLAS_STATUS_NOT_SUPPORTED here; those the real table has (INT8, complex) are not needed by the project.
bool supported_types(int at, int bt, int ct) {
  if (at != bt) return false;
  if (at == CUDA_R_16BF) return ct == CUDA_R_16BF || ct == CUDA_R_32F;
  if (at == CUDA_R_16F) return ct == CUDA_R_16F || ct == CUDA_R_32F;
  if (at == CUDA_R_32F) return ct == CUDA_R_32F;
  return false;
}

// cublasGemmAlgo_t: CUBLAS_GEMM_DEFAULT (-1), CUBLAS_GEMM_ALGO0..23 (0..23), CUBLAS_GEMM_DEFAULT_TENSOR_OP (99),
// CUBLAS_GEMM_ALGO0_TENSOR_OP..15 (100..115). All compute the same result here (they are hints since CUDA 11).
bool valid_algo(int algo) { return algo == -1 || (algo >= 0 && algo <= 23) || (algo >= 99 && algo <= 115); }

// Everything the GEMM needs, copied (alpha and beta by value), so a captured GEMM replays alone.
struct GemmArgs {
  int transa, transb, m, n, k;
  const void* A;
  int atype, lda;
  const void* B;
  int btype, ldb;
  void* C;
  int ctype, ldc;
  float alpha, beta;
  size_t a_bytes, b_bytes, c_bytes;  // the exact extents touched (0 when the matrix is not read)
};

// Bytes from the first to the past-the-last element of a column-major rows x cols matrix with leading dimension ld:
// (cols - 1) * ld + rows elements (the last column ends at its last row, not at ld).
size_t extent_bytes(int rows, int cols, int ld, size_t elem) {
  if (rows == 0 || cols == 0) return 0;
  return (static_cast<size_t>(cols - 1) * static_cast<size_t>(ld) + static_cast<size_t>(rows)) * elem;
}

// ---- element access ----

inline float load(const void* base, int type, size_t idx) {
  switch (type) {
    case CUDA_R_16BF: return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[idx]);
    case CUDA_R_16F: return __half2float(static_cast<const __half*>(base)[idx]);
    default: return static_cast<const float*>(base)[idx];
  }
}

inline void store(void* base, int type, size_t idx, float v) {
  switch (type) {
    case CUDA_R_16BF: static_cast<__nv_bfloat16*>(base)[idx] = __float2bfloat16_rn(v); break;
    case CUDA_R_16F: static_cast<__half*>(base)[idx] = __float2half_rn(v); break;
    default: static_cast<float*>(base)[idx] = v; break;
  }
}

// ---- the kernel ----
// One vector lane per row of op(A), each lane its own serial float sum over k: the lanes are independent, so a lane
// computes exactly the scalar contract (IEEE single, no reassociation within a lane). GCC vector extensions (SSE2 on
// baseline x86-64, NEON on aarch64), no intrinsics; the hot loops are also built for AVX2 and picked at load time
// (target_clones: AVX2 has no FMA, and -ffp-contract=off forbids contraction anyway, so both give the same bits).
constexpr int LANES = 8;
constexpr int GROUP = 4;                 // row blocks of 8 computed together: 32 rows, 4 independent add chains
constexpr int GROUP_ROWS = LANES * GROUP;
// aligned(32): without AVX enabled GCC caps a vector's alignment at 16, but the AVX2 clones assume 32 (vmovaps)
typedef float v8f __attribute__((vector_size(LANES * sizeof(float)), aligned(32)));
typedef uint16_t v8u16 __attribute__((vector_size(LANES * sizeof(uint16_t))));
typedef uint32_t v8u32 __attribute__((vector_size(LANES * sizeof(uint32_t))));

// v8f values cross only always_inline helpers and pointers, never a call boundary, so GCC's note that passing a
// 32-byte vector by value without AVX differs from the AVX ABI does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

// The helpers below are always_inline so that each clone compiles them for its own target.
// (Not under ThreadSanitizer: its instrumentation of the ifunc resolver crashes at load, before TSan starts.)
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define EMU_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EMU_CLONES
#endif

// Eight consecutive elements widened to float.
__attribute__((always_inline)) inline v8f load8(const void* base, int type, size_t idx) {
  if (type == CUDA_R_16BF) {
    v8u16 raw;
    std::memcpy(&raw, static_cast<const uint16_t*>(base) + idx, sizeof raw);
    v8u32 bits = __builtin_convertvector(raw, v8u32) << 16;   // BF16 is the top half of a float
    v8f f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  v8f f;
  if (type == CUDA_R_32F) {
    std::memcpy(&f, static_cast<const float*>(base) + idx, sizeof f);
  } else {
    for (int i = 0; i < LANES; ++i) f[i] = load(base, type, idx + static_cast<size_t>(i));
  }
  return f;
}

// out[j] = {r[0][j], ..., r[7][j]}: the 8x8 transpose (unpack, shuffle, swap halves: maps onto unpcklps/shufps).
__attribute__((always_inline)) inline void transpose8(const v8f r[LANES], v8f out[LANES]) {
  v8f t[LANES], u[LANES];
#pragma GCC unroll 8
  for (int i = 0; i < LANES; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
#pragma GCC unroll 8
  for (int i = 0; i < LANES; i += 4) {
    u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
#pragma GCC unroll 8
  for (int i = 0; i < 4; ++i) {
    out[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    out[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

typedef uint32_t v4u32 __attribute__((vector_size(4 * sizeof(uint32_t))));
typedef uint64_t v2u64 __attribute__((vector_size(2 * sizeof(uint64_t))));

// The 8x8 transpose of 16-bit elements, before widening: 24 shuffles that map onto punpck{l,h}{wd,dq,qdq} and
// stay in 8 xmm registers (transposing after widening needs twice the registers and spills).
__attribute__((always_inline)) inline void transpose8_u16(const v8u16 r[LANES], v8u16 out[LANES]) {
  v8u16 a[LANES];
#pragma GCC unroll 8
  for (int i = 0; i < LANES; i += 2) {
    a[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 2, 10, 3, 11);
    a[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 4, 12, 5, 13, 6, 14, 7, 15);
  }
  v4u32 b[LANES];
#pragma GCC unroll 8
  for (int h = 0; h < LANES; h += 4) {   // rows 0-3, then rows 4-7
    // (vector) casts between vectors of one size reinterpret the bits (GCC vector extensions)
    const v4u32 lo0 = (v4u32)a[h], lo1 = (v4u32)a[h + 2];
    const v4u32 hi0 = (v4u32)a[h + 1], hi1 = (v4u32)a[h + 3];
    b[h] = __builtin_shufflevector(lo0, lo1, 0, 4, 1, 5);       // columns 0, 1
    b[h + 1] = __builtin_shufflevector(lo0, lo1, 2, 6, 3, 7);   // columns 2, 3
    b[h + 2] = __builtin_shufflevector(hi0, hi1, 0, 4, 1, 5);   // columns 4, 5
    b[h + 3] = __builtin_shufflevector(hi0, hi1, 2, 6, 3, 7);   // columns 6, 7
  }
#pragma GCC unroll 8
  for (int c = 0; c < 4; ++c) {
    const v2u64 top = (v2u64)b[c], bottom = (v2u64)b[c + 4];
    out[2 * c] = (v8u16)__builtin_shufflevector(top, bottom, 0, 2);
    out[2 * c + 1] = (v8u16)__builtin_shufflevector(top, bottom, 1, 3);
  }
}

// Eight 16-bit values (BF16 or FP16 bits) widened to float.
__attribute__((always_inline)) inline v8f widen8(v8u16 bits, int type) {
  if (type == CUDA_R_16BF) {
    return (v8f)(__builtin_convertvector(bits, v8u32) << 16);   // BF16 is the top half of a float
  }
  v8f f;
  for (int i = 0; i < LANES; ++i) {
    __half_raw raw;
    raw.x = bits[i];
    f[i] = __half2float(__half(raw));
  }
  return f;
}

// Columns p .. p+7 of the 8 rows starting at row `first` of a transposed (row-contiguous) op(A), as out[j] =
// {op(A)(first + r, p + j) : r < 8}.
__attribute__((always_inline)) inline void load_tile_t(const GemmArgs& g, int first, int p, v8f out[LANES]) {
  const size_t lda = static_cast<size_t>(g.lda);
  if (g.atype == CUDA_R_32F) {
    v8f tile[LANES];
#pragma GCC unroll 8
    for (int r = 0; r < LANES; ++r) tile[r] = load8(g.A, g.atype, static_cast<size_t>(first + r) * lda + p);
    transpose8(tile, out);
    return;
  }
  v8u16 rows[LANES], cols[LANES];
#pragma GCC unroll 8
  for (int r = 0; r < LANES; ++r) {
    std::memcpy(&rows[r], static_cast<const uint16_t*>(g.A) + static_cast<size_t>(first + r) * lda + p, sizeof(v8u16));
  }
  transpose8_u16(rows, cols);
#pragma GCC unroll 8
  for (int j = 0; j < LANES; ++j) out[j] = widen8(cols[j], g.atype);
}

// Packs rows i0 .. i0+31 of op(A), all k columns, as panel[p * GROUP + q] = {op(A)(i0 + 8q + r, p) : r < 8}; rows
// at or past m are 0 (their lanes are computed and dropped).
EMU_CLONES void pack_a(const GemmArgs& g, int i0, v8f* panel) {
  const size_t lda = static_cast<size_t>(g.lda);
  const int k = g.k;
  for (int q = 0; q < GROUP; ++q) {
    const int first = i0 + q * LANES;
    const int rows = std::max(0, std::min(LANES, g.m - first));
    if (rows == 0) {
      for (int p = 0; p < k; ++p) panel[static_cast<size_t>(p) * GROUP + q] = v8f{};
      continue;
    }
    if (g.transa == OP_N) {
      // op(A)(i, p) = A[i + p * lda]: the block's rows are contiguous for each p
      for (int p = 0; p < k; ++p) {
        const size_t at = static_cast<size_t>(first) + static_cast<size_t>(p) * lda;
        v8f v{};
        if (rows == LANES) {
          v = load8(g.A, g.atype, at);
        } else {
          for (int r = 0; r < rows; ++r) v[r] = load(g.A, g.atype, at + static_cast<size_t>(r));
        }
        panel[static_cast<size_t>(p) * GROUP + q] = v;
      }
      continue;
    }
    // op(A)(i, p) = A[p + i * lda]: each row of op(A) is contiguous (the transa = T decode case): 8x8 tiles,
    // widened and transposed in registers
    int p = 0;
    if (rows == LANES) {
      for (; p + LANES <= k; p += LANES) {
        v8f cols[LANES];
        load_tile_t(g, first, p, cols);
        for (int j = 0; j < LANES; ++j) panel[static_cast<size_t>(p + j) * GROUP + q] = cols[j];
      }
    }
    for (; p < k; ++p) {
      v8f v{};
      for (int r = 0; r < rows; ++r) {
        v[r] = load(g.A, g.atype, static_cast<size_t>(first + r) * lda + static_cast<size_t>(p));
      }
      panel[static_cast<size_t>(p) * GROUP + q] = v;
    }
  }
}

// acc[q] = sum over p of panel[p][q] * b[p], per lane in increasing p, starting at +0.0f.
EMU_CLONES void dot_group(const v8f* panel, const float* b, int k, v8f acc[GROUP]) {
  v8f a0{}, a1{}, a2{}, a3{};
  for (int p = 0; p < k; ++p) {
    const float bp = b[p];
    const v8f* col = panel + static_cast<size_t>(p) * GROUP;
    a0 = a0 + col[0] * bp;   // per lane: float product, then float add (no contraction: -ffp-contract=off)
    a1 = a1 + col[1] * bp;
    a2 = a2 + col[2] * bp;
    a3 = a3 + col[3] * bp;
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

// The decode case (transa != N, few columns): rows i0 .. i0+31 of op(A) (all valid) times one column b, straight from
// A without a panel: each 8x8 tile is widened, transposed in registers and accumulated at once. Each lane still adds
// its products in increasing p, so the bits equal dot_group's.
EMU_CLONES void dot_group_direct(const GemmArgs& g, int i0, const float* b, v8f acc[GROUP]) {
  const size_t lda = static_cast<size_t>(g.lda);
  const int k = g.k;
  v8f sum[GROUP] = {};
  // Rows at a power-of-two stride share L1 sets: each row block walks a whole 64-byte line of its rows (up to 4
  // tiles) before the next block, so a line is fetched once rather than once per tile.
  constexpr int STEP = 4 * LANES;
  int p = 0;
  for (; p + LANES <= k; p += STEP) {
    const int end = std::min(p + STEP, k - k % LANES);
    for (int q = 0; q < GROUP; ++q) {
      v8f s = sum[q];
      for (int t = p; t < end; t += LANES) {
        v8f cols[LANES];
        load_tile_t(g, i0 + q * LANES, t, cols);
#pragma GCC unroll 8
        for (int j = 0; j < LANES; ++j) s = s + cols[j] * b[t + j];
      }
      sum[q] = s;
    }
  }
  for (p = k - k % LANES; p < k; ++p) {
    for (int q = 0; q < GROUP; ++q) {
      v8f v;
      for (int r = 0; r < LANES; ++r) {
        v[r] = load(g.A, g.atype, static_cast<size_t>(i0 + q * LANES + r) * lda + static_cast<size_t>(p));
      }
      sum[q] = sum[q] + v * b[p];
    }
  }
  for (int q = 0; q < GROUP; ++q) acc[q] = sum[q];
}

// The same for transa == N: the 8 rows of a block are contiguous for each p, so no transpose is needed.
EMU_CLONES void dot_group_direct_n(const GemmArgs& g, int i0, const float* b, v8f acc[GROUP]) {
  const size_t lda = static_cast<size_t>(g.lda);
  v8f a0{}, a1{}, a2{}, a3{};
  for (int p = 0; p < g.k; ++p) {
    const size_t at = static_cast<size_t>(i0) + static_cast<size_t>(p) * lda;
    const float bp = b[p];
    a0 = a0 + load8(g.A, g.atype, at) * bp;
    a1 = a1 + load8(g.A, g.atype, at + LANES) * bp;
    a2 = a2 + load8(g.A, g.atype, at + 2 * LANES) * bp;
    a3 = a3 + load8(g.A, g.atype, at + 3 * LANES) * bp;
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

// op(B)(., j) widened to float, contiguous in p.
EMU_CLONES void pack_b_column(const GemmArgs& g, int j, float* dst) {
  const size_t ldb = static_cast<size_t>(g.ldb);
  const int k = g.k;
  if (g.transb == OP_N) {
    // op(B)(p, j) = B[p + j * ldb]
    const size_t at = static_cast<size_t>(j) * ldb;
    int p = 0;
    for (; p + LANES <= k; p += LANES) {
      v8f v = load8(g.B, g.btype, at + static_cast<size_t>(p));
      std::memcpy(dst + p, &v, sizeof v);
    }
    for (; p < k; ++p) dst[p] = load(g.B, g.btype, at + static_cast<size_t>(p));
  } else {
    // op(B)(p, j) = B[j + p * ldb]
    for (int p = 0; p < k; ++p) dst[p] = load(g.B, g.btype, static_cast<size_t>(j) + static_cast<size_t>(p) * ldb);
  }
}

// C = beta * C (k == 0 or alpha == 0): A and B are not read; beta == 0 writes zeros without reading C.
void scale_c(const GemmArgs& g) {
  for (int j = 0; j < g.n; ++j) {
    for (int i = 0; i < g.m; ++i) {
      size_t idx = static_cast<size_t>(i) + static_cast<size_t>(j) * static_cast<size_t>(g.ldc);
      float r = 0.0f;
      if (g.beta != 0.0f) r = g.beta * load(g.C, g.ctype, idx);
      store(g.C, g.ctype, idx, r);
    }
  }
}

int run_gemm(const GemmArgs& g) {
  if (g.m == 0 || g.n == 0) return 0;
  if (g.k == 0 || g.alpha == 0.0f) {
    scale_c(g);
    return 0;
  }
  const int k = g.k;
  const size_t col_floats = static_cast<size_t>(k);
  // op(B) widened for a chunk of columns (at most ~16 MiB), reused by every row group
  const int chunk_cols =
      static_cast<int>(std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(g.n), (16u << 20) / (4 * col_floats))));
  std::vector<float> bpack(static_cast<size_t>(chunk_cols) * col_floats);
  // not std::vector<v8f>: a template argument drops the aligned(32) attribute
  struct AlignedDelete {
    void operator()(float* p) const { ::operator delete(p, std::align_val_t(alignof(v8f))); }
  };
  std::unique_ptr<float, AlignedDelete> panel_memory(static_cast<float*>(
      ::operator new(sizeof(v8f) * static_cast<size_t>(k) * GROUP, std::align_val_t(alignof(v8f)))));
  v8f* panel = reinterpret_cast<v8f*>(panel_memory.get());
  const size_t ldc = static_cast<size_t>(g.ldc);

  for (int j0 = 0; j0 < g.n; j0 += chunk_cols) {
    const int cols = std::min(chunk_cols, g.n - j0);
    for (int jj = 0; jj < cols; ++jj) pack_b_column(g, j0 + jj, bpack.data() + static_cast<size_t>(jj) * col_floats);
    for (int i0 = 0; i0 < g.m; i0 += GROUP_ROWS) {
      const int rows = std::min(GROUP_ROWS, g.m - i0);
      // few columns: re-reading A per column is cheaper than writing and reading a panel
      const bool direct = rows == GROUP_ROWS && cols < 4;
      if (!direct) pack_a(g, i0, panel);
      for (int jj = 0; jj < cols; ++jj) {
        v8f acc[GROUP];
        const float* b = bpack.data() + static_cast<size_t>(jj) * col_floats;
        if (direct && g.transa == OP_N) {
          dot_group_direct_n(g, i0, b, acc);
        } else if (direct) {
          dot_group_direct(g, i0, b, acc);
        } else {
          dot_group(panel, b, k, acc);
        }
        const size_t col = static_cast<size_t>(j0 + jj) * ldc;
        for (int r = 0; r < rows; ++r) {
          const size_t idx = static_cast<size_t>(i0 + r) + col;
          float v = g.alpha * acc[r / LANES][r % LANES];
          if (g.beta != 0.0f) v = v + g.beta * load(g.C, g.ctype, idx);
          store(g.C, g.ctype, idx, v);
        }
      }
    }
  }
  return 0;
}

// Checks that [p, p + bytes) lies in one live device allocation; names the matrix and the call when it does not.
bool check_extent(const char* name, const void* p, size_t bytes, const char* shape, const char* when) {
  char why[512];
  why[0] = '\0';
  if (nemotronEmuCheckRange(p, bytes, why, sizeof why) == 0) return true;
  nemotronEmuSetLastError("cublasGemmEx%s: %s (%s, %zu bytes from %p) is not inside one live device allocation: %s",
                          when, name, shape, bytes, p, why);
  return false;
}

bool overlaps(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  if (a_bytes == 0 || b_bytes == 0) return false;
  uintptr_t a0 = reinterpret_cast<uintptr_t>(a), b0 = reinterpret_cast<uintptr_t>(b);
  return a0 < b0 + b_bytes && b0 < a0 + a_bytes;
}

// Runs in stream order (nemotronEmuEnqueue). The extents are checked again because a captured GEMM replays later,
// when an allocation may have been freed: a GPU would fault there, so this reports CUDA_ERROR_ILLEGAL_ADDRESS.
int gemm_work(void* arg) {
  const GemmArgs& g = *static_cast<const GemmArgs*>(arg);
  if ((g.a_bytes != 0 && !check_extent("A", g.A, g.a_bytes, "op(A)", " (enqueued work)")) ||
      (g.b_bytes != 0 && !check_extent("B", g.B, g.b_bytes, "op(B)", " (enqueued work)")) ||
      (g.c_bytes != 0 && !check_extent("C", g.C, g.c_bytes, "C", " (enqueued work)"))) {
    return CUDA_ERROR_ILLEGAL_ADDRESS;
  }
  try {
    return run_gemm(g);
  } catch (const std::bad_alloc&) {   // no exception may leave through the driver's C code
    nemotronEmuSetLastError("cublasGemmEx (enqueued work): out of host memory for the packed operands");
    return CUDA_ERROR_OUT_OF_MEMORY;
  }
}

void free_gemm(void* arg) { delete static_cast<GemmArgs*>(arg); }

const char* status_name(int s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "<unknown>";
  }
}

}  // namespace

// cublasStatus_t cublasCreate_v2(cublasHandle_t* handle): a handle on the calling thread's current device, with the
// legacy default stream and CUBLAS_DEFAULT_MATH.
EMU_EXPORT int cublasCreate_v2(void** handle) {
  if (handle == nullptr) {
    nemotronEmuSetLastError("cublasCreate_v2: handle (the output pointer) is null");
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  Handle h;
  h.device = nemotronEmuCurrentDevice();
  std::lock_guard<std::mutex> lock(g_handles_mu);
  uintptr_t id = g_next_handle;
  g_next_handle += 0x10;
  try {
    g_handles.emplace(id, h);
  } catch (const std::bad_alloc&) {
    nemotronEmuSetLastError("cublasCreate_v2: out of host memory");
    return CUBLAS_STATUS_ALLOC_FAILED;
  }
  *handle = reinterpret_cast<void*>(id);
  return CUBLAS_STATUS_SUCCESS;
}

EMU_EXPORT int cublasDestroy_v2(void* handle) {
  std::lock_guard<std::mutex> lock(g_handles_mu);
  if (g_handles.erase(reinterpret_cast<uintptr_t>(handle)) == 0) {
    nemotronEmuSetLastError("cublasDestroy_v2: handle %p is not a live cuBLAS handle (null, never created, or "
                            "already destroyed)", handle);
    return CUBLAS_STATUS_NOT_INITIALIZED;
  }
  return CUBLAS_STATUS_SUCCESS;
}

// The stream is not validated here (cuBLAS does not either): a bad one fails when work is enqueued on it.
EMU_EXPORT int cublasSetStream_v2(void* handle, void* stream) {
  std::lock_guard<std::mutex> lock(g_handles_mu);
  auto it = g_handles.find(reinterpret_cast<uintptr_t>(handle));
  if (it == g_handles.end()) return not_initialized("cublasSetStream_v2", handle);
  it->second.stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

// cublasSetWorkspace_v2(handle, workspace, bytes): the buffer cuBLAS uses instead of allocating its own, which is
// what keeps a GEMM capturable into a CUDA graph without an allocation. As cuBLAS documents: the pointer must be
// aligned to 256 bytes; here it must also lie, with its size, inside one allocation of the handle's device (null with
// 0 bytes goes back to cuBLAS's own workspace).
EMU_EXPORT int cublasSetWorkspace_v2(void* handle, void* workspace, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_handles_mu);
  auto it = g_handles.find(reinterpret_cast<uintptr_t>(handle));
  if (it == g_handles.end()) return not_initialized("cublasSetWorkspace_v2", handle);
  if (workspace != nullptr || bytes != 0) {
    char why[512];
    if (reinterpret_cast<uintptr_t>(workspace) % 256 != 0) {
      nemotronEmuSetLastError("cublasSetWorkspace_v2: workspace %p is not aligned to 256 bytes", workspace);
      return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (workspace == nullptr || nemotronEmuCheckRange(workspace, bytes, why, sizeof why) != 0) {
      nemotronEmuSetLastError("cublasSetWorkspace_v2: workspace %p of %zu bytes: %s", workspace, bytes,
                              workspace == nullptr ? "null" : why);
      return CUBLAS_STATUS_INVALID_VALUE;
    }
    int dev = nemotronEmuDeviceOf(workspace);
    if (it->second.device >= 0 && dev != it->second.device) {
      nemotronEmuSetLastError("cublasSetWorkspace_v2: workspace %p is memory of device %d, the handle's is %d",
                              workspace, dev, it->second.device);
      return CUBLAS_STATUS_INVALID_VALUE;
    }
  }
  it->second.workspace = workspace;
  it->second.workspace_bytes = bytes;
  return CUBLAS_STATUS_SUCCESS;
}

EMU_EXPORT int cublasGetStream_v2(void* handle, void** stream) {
  Handle h;
  if (!lookup(handle, &h)) return not_initialized("cublasGetStream_v2", handle);
  if (stream == nullptr) {
    nemotronEmuSetLastError("cublasGetStream_v2: streamId (the output pointer) is null");
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  *stream = h.stream;
  return CUBLAS_STATUS_SUCCESS;
}

// Accepted: CUBLAS_DEFAULT_MATH, CUBLAS_TENSOR_OP_MATH, CUBLAS_PEDANTIC_MATH, CUBLAS_TF32_TENSOR_OP_MATH, each
// optionally with CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION. The mode is stored and reported; it does not change
// this emulator's arithmetic (FP32 accumulation always; TF32 rounding of FP32 inputs is not emulated).
EMU_EXPORT int cublasSetMathMode(void* handle, int mode) {
  std::lock_guard<std::mutex> lock(g_handles_mu);
  auto it = g_handles.find(reinterpret_cast<uintptr_t>(handle));
  if (it == g_handles.end()) return not_initialized("cublasSetMathMode", handle);
  int base = mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
  if (base < 0 || base > 3) {
    nemotronEmuSetLastError("cublasSetMathMode: %d is not a cublasMath_t (0..3, optionally | 16)", mode);
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  it->second.math_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

EMU_EXPORT int cublasGetMathMode(void* handle, int* mode) {
  Handle h;
  if (!lookup(handle, &h)) return not_initialized("cublasGetMathMode", handle);
  if (mode == nullptr) {
    nemotronEmuSetLastError("cublasGetMathMode: mode (the output pointer) is null");
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  *mode = h.math_mode;
  return CUBLAS_STATUS_SUCCESS;
}

// The handle is not used (as in cuBLAS, where the version does not depend on it); any value, null included, works.
EMU_EXPORT int cublasGetVersion_v2(void* handle, int* version) {
  (void)handle;
  if (version == nullptr) {
    nemotronEmuSetLastError("cublasGetVersion_v2: version (the output pointer) is null");
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  *version = EMULATED_CUBLAS_VERSION;
  return CUBLAS_STATUS_SUCCESS;
}

EMU_EXPORT const char* cublasGetStatusName(int status) { return status_name(status); }

EMU_EXPORT const char* cublasGetStatusString(int status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR: return "error detected trying to check the license";
    default: return "unknown error";
  }
}

// cublasStatus_t cublasGemmEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb, beta, C, Ctype,
//                             ldc, computeType, algo)
// Checks, in this order, each failing with the cuBLAS status the guide lists: the handle (NOT_INITIALIZED); transa and
// transb in {N, T, C}, m, n, k >= 0, lda >= max(1, transa == N ? m : k), ldb >= max(1, transb == N ? k : n),
// ldc >= max(1, m), alpha and beta non-null host pointers, algo a cublasGemmAlgo_t (INVALID_VALUE); computeType and the
// type combination (NOT_SUPPORTED). Then, unless m or n is 0: every extent the GEMM touches lies in one live device
// allocation (A and B when k > 0, C always), C does not overlap A or B (a GPU would race), and the matrices are on the
// handle's device (INVALID_VALUE with the detail in nemotronEmuLastError). The work is enqueued on the handle's stream.
EMU_EXPORT int cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha,
                            const void* A, int Atype, int lda, const void* B, int Btype, int ldb, const void* beta,
                            void* C, int Ctype, int ldc, int computeType, int algo) {
  Handle h;
  if (!lookup(handle, &h)) return not_initialized("cublasGemmEx", handle);
  auto invalid = [&](const char* fmt, auto... args) {
    char what[384];
    std::snprintf(what, sizeof what, fmt, args...);
    nemotronEmuSetLastError("cublasGemmEx(transa=%d, transb=%d, m=%d, n=%d, k=%d, lda=%d, ldb=%d, ldc=%d): %s",
                            transa, transb, m, n, k, lda, ldb, ldc, what);
    return CUBLAS_STATUS_INVALID_VALUE;
  };
  auto valid_op = [](int op) { return op == OP_N || op == OP_T || op == OP_C; };
  if (!valid_op(transa)) return invalid("transa %d is not CUBLAS_OP_N/T/C", transa);
  if (!valid_op(transb)) return invalid("transb %d is not CUBLAS_OP_N/T/C", transb);
  if (m < 0 || n < 0 || k < 0) return invalid("%s", "m, n and k must be >= 0");
  const int lda_min = std::max(1, transa == OP_N ? m : k);
  const int ldb_min = std::max(1, transb == OP_N ? k : n);
  const int ldc_min = std::max(1, m);
  if (lda < lda_min) return invalid("lda %d < max(1, %s) = %d", lda, transa == OP_N ? "m" : "k", lda_min);
  if (ldb < ldb_min) return invalid("ldb %d < max(1, %s) = %d", ldb, transb == OP_N ? "k" : "n", ldb_min);
  if (ldc < ldc_min) return invalid("ldc %d < max(1, m) = %d", ldc, ldc_min);
  if (alpha == nullptr) return invalid("%s", "alpha is null");
  if (beta == nullptr) return invalid("%s", "beta is null");
  // Pointer mode is HOST: a device address here would be dereferenced on the host by cuBLAS and crash.
  if (nemotronEmuDeviceOf(alpha) >= 0) {
    return invalid("alpha %p is a device address, but the pointer mode is CUBLAS_POINTER_MODE_HOST", alpha);
  }
  if (nemotronEmuDeviceOf(beta) >= 0) {
    return invalid("beta %p is a device address, but the pointer mode is CUBLAS_POINTER_MODE_HOST", beta);
  }
  if (!valid_algo(algo)) return invalid("algo %d is not a cublasGemmAlgo_t", algo);
  if (computeType != CUBLAS_COMPUTE_32F || !supported_types(Atype, Btype, Ctype)) {
    nemotronEmuSetLastError("cublasGemmEx: Atype %d (%s), Btype %d (%s), Ctype %d (%s) with computeType %d is not "
                            "supported (emulated: CUBLAS_COMPUTE_32F with A = B = 16BF -> C 16BF/32F, 16F -> C "
                            "16F/32F, 32F -> C 32F)",
                            Atype, type_name(Atype), Btype, type_name(Btype), Ctype, type_name(Ctype), computeType);
    return CUBLAS_STATUS_NOT_SUPPORTED;
  }
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;   // BLAS quick return: nothing is read or written

  auto* g = new (std::nothrow) GemmArgs{};
  if (g == nullptr) {
    nemotronEmuSetLastError("cublasGemmEx: out of host memory for the work item");
    return CUBLAS_STATUS_ALLOC_FAILED;
  }
  g->transa = transa; g->transb = transb; g->m = m; g->n = n; g->k = k;
  g->A = A; g->atype = Atype; g->lda = lda;
  g->B = B; g->btype = Btype; g->ldb = ldb;
  g->C = C; g->ctype = Ctype; g->ldc = ldc;
  std::memcpy(&g->alpha, alpha, sizeof(float));
  std::memcpy(&g->beta, beta, sizeof(float));
  const bool reads_ab = k > 0 && g->alpha != 0.0f;
  // A and B are checked whenever k > 0 (even with alpha == 0, when they are not read): a wrong pointer is a bug either
  // way. They are recorded as touched only when read, so a replay re-checks what it uses.
  const size_t a_ext = k > 0 ? extent_bytes(transa == OP_N ? m : k, transa == OP_N ? k : m, lda, type_size(Atype)) : 0;
  const size_t b_ext = k > 0 ? extent_bytes(transb == OP_N ? k : n, transb == OP_N ? n : k, ldb, type_size(Btype)) : 0;
  g->a_bytes = reads_ab ? a_ext : 0;
  g->b_bytes = reads_ab ? b_ext : 0;
  g->c_bytes = extent_bytes(m, n, ldc, type_size(Ctype));

  char shape_a[96], shape_b[96], shape_c[96];
  std::snprintf(shape_a, sizeof shape_a, "%s, transa=%c: %d x %d stored, lda=%d", type_name(Atype), op_char(transa),
                transa == OP_N ? m : k, transa == OP_N ? k : m, lda);
  std::snprintf(shape_b, sizeof shape_b, "%s, transb=%c: %d x %d stored, ldb=%d", type_name(Btype), op_char(transb),
                transb == OP_N ? k : n, transb == OP_N ? n : k, ldb);
  std::snprintf(shape_c, sizeof shape_c, "%s: %d x %d, ldc=%d", type_name(Ctype), m, n, ldc);
  if ((a_ext != 0 && !check_extent("A", A, a_ext, shape_a, "")) ||
      (b_ext != 0 && !check_extent("B", B, b_ext, shape_b, "")) ||
      !check_extent("C", C, g->c_bytes, shape_c, "")) {
    delete g;
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (overlaps(C, g->c_bytes, A, a_ext) || overlaps(C, g->c_bytes, B, b_ext)) {
    const bool with_a = overlaps(C, g->c_bytes, A, a_ext);
    delete g;
    return invalid("C [%p, +%zu) overlaps %s [%p, +%zu): the output must not alias an input (a GPU's result would be "
                   "undefined)", C, extent_bytes(m, n, ldc, type_size(Ctype)), with_a ? "A" : "B", with_a ? A : B,
                   with_a ? a_ext : b_ext);
  }
  if (h.device >= 0) {
    const struct { const char* name; const void* p; size_t bytes; } mats[] = {{"A", A, a_ext}, {"B", B, b_ext},
                                                                            {"C", C, g->c_bytes}};
    for (const auto& mat : mats) {
      if (mat.bytes == 0) continue;
      int dev = nemotronEmuDeviceOf(mat.p);
      if (dev != h.device) {
        delete g;
        return invalid("%s (%p) is on device %d but the handle was created on device %d", mat.name, mat.p, dev,
                       h.device);
      }
    }
  }

  int rc = nemotronEmuEnqueue(h.stream, "cublasGemmEx", gemm_work, g, free_gemm);
  if (rc != 0) {
    // The detail of the failure (from the driver or from gemm_work) is already in nemotronEmuLastError.
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  return CUBLAS_STATUS_SUCCESS;
}
