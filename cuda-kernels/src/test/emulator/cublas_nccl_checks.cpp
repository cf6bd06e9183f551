// Checks of the emulated cuBLAS (libcublas.so.13) and NCCL (libnccl.so.2) through their C ABIs, over the emulated
// driver (libcuda.so.1). Uses only the driver API and emu_api.h; device memory is read and written directly, as the emulator's device memory is
// host memory. Prints one PASS/FAIL/SKIP line per check and exits nonzero when any check failed (2 on a hang: a watchdog
// ends the process after NEMOTRON_CHECKS_WATCHDOG_S seconds, default 600).
//
// Oracles: GEMMs against an independent double-precision naive reference with an error bound (and, bit for bit,
// against a naive scalar loop of the documented FP32 contract); BF16/FP16 roundings and NCCL sums worked out by hand
// in the comments; NCCL results against sums computed here.
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "emu_api.h"

// ---- the two libraries' C API, declared as their headers do (every enum is an int) ----
extern "C" {
typedef struct {
  char internal[128];
} ncclUniqueId;
int cublasCreate_v2(void** handle);
int cublasDestroy_v2(void* handle);
int cublasSetStream_v2(void* handle, void* stream);
int cublasGetStream_v2(void* handle, void** stream);
int cublasSetMathMode(void* handle, int mode);
int cublasSetWorkspace_v2(void* handle, void* workspace, size_t bytes);
int cublasGetMathMode(void* handle, int* mode);
int cublasGetVersion_v2(void* handle, int* version);
const char* cublasGetStatusName(int status);
const char* cublasGetStatusString(int status);
int cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* A, int Atype,
                 int lda, const void* B, int Btype, int ldb, const void* beta, void* C, int Ctype, int ldc,
                 int computeType, int algo);

int ncclGetVersion(int* version);
int ncclGetUniqueId(ncclUniqueId* id);
int ncclCommInitRank(void** comm, int nranks, ncclUniqueId id, int rank);
int ncclCommInitAll(void** comms, int ndev, const int* devlist);
int ncclAllReduce(const void* send, void* recv, size_t count, int datatype, int op, void* comm, void* stream);
int ncclAllGather(const void* send, void* recv, size_t sendcount, int datatype, void* comm, void* stream);
int ncclGroupStart();
int ncclGroupEnd();
int ncclCommDestroy(void* comm);
int ncclCommAbort(void* comm);
const char* ncclGetErrorString(int result);
const char* ncclGetLastError(void* comm);
int ncclCommGetAsyncError(void* comm, int* asyncError);
int ncclCommCount(void* comm, int* count);
int ncclCommUserRank(void* comm, int* rank);
int ncclCommCuDevice(void* comm, int* device);
}

namespace {

constexpr int R_32F = 0, R_16F = 2, R_16BF = 14, R_8I = 3;
constexpr int OP_N = 0, OP_T = 1, OP_C = 2;
constexpr int COMPUTE_32F = 68, COMPUTE_64F = 70;
constexpr int ALGO_DEFAULT = -1;
constexpr int ST_OK = 0, ST_NOT_INIT = 1, ST_INVALID = 7, ST_EXEC_FAILED = 13, ST_NOT_SUPPORTED = 15;

constexpr int nSuccess = 0, nSystemError = 2, nInvalidArgument = 4, nInvalidUsage = 5, nRemoteError = 6;
constexpr int nInt8 = 0, nInt32 = 2, nFloat16 = 6, nFloat32 = 7, nBfloat16 = 9;
constexpr int nSum = 0, nProd = 1, nMax = 2, nMin = 3, nAvg = 4;

// ---- reporting ----

int g_failed_checks = 0;
std::mutex g_print_mu;

struct Check {
  std::string name;
  int failures = 0;
  bool skipped = false;
  explicit Check(std::string n) : name(std::move(n)) {}
  void expect(bool ok, const char* fmt, ...) __attribute__((format(printf, 3, 4))) {
    if (ok) return;
    std::lock_guard<std::mutex> lock(g_print_mu);
    if (++failures <= 20) {
      char buf[2048];
      va_list ap;
      va_start(ap, fmt);
      std::vsnprintf(buf, sizeof buf, fmt, ap);
      va_end(ap);
      std::printf("FAIL %s: %s\n", name.c_str(), buf);
      std::fflush(stdout);
    }
  }
  void skip(const char* why) {
    skipped = true;
    std::printf("SKIP %s: %s\n", name.c_str(), why);
  }
  ~Check() {
    if (skipped) return;
    if (failures == 0) {
      std::printf("PASS %s\n", name.c_str());
    } else {
      std::printf("FAIL %s (%d failures)\n", name.c_str(), failures);
      ++g_failed_checks;
    }
    std::fflush(stdout);
  }
};

bool contains(const char* s, const char* part) { return s != nullptr && std::strstr(s, part) != nullptr; }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- devices and memory ----

int g_devices = 0;
std::vector<CUcontext> g_ctx;

void set_device(int d) {
  if (cuCtxSetCurrent(g_ctx[d]) != CUDA_SUCCESS) {
    std::printf("FAIL setup: cuCtxSetCurrent(device %d)\n", d);
    std::exit(1);
  }
}

void* dalloc(size_t bytes) {   // on the calling thread's current device
  CUdeviceptr p = 0;
  if (cuMemAlloc_v2(&p, bytes) != CUDA_SUCCESS) {
    std::printf("FAIL setup: cuMemAlloc(%zu)\n", bytes);
    std::exit(1);
  }
  return reinterpret_cast<void*>(p);
}

void dfree(void* p) { cuMemFree_v2(reinterpret_cast<CUdeviceptr>(p)); }

// ---- number formats ----

uint16_t bf16_bits(float f) {   // a float BF16 holds exactly
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>(u >> 16);
}
float bf16_value(uint16_t b) {
  uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t f16_bits(float f) {
  __half h = __float2half_rn(f);
  uint16_t b;
  std::memcpy(&b, &h, 2);
  return b;
}
float f16_value(uint16_t b) {
  __half_raw raw;
  raw.x = b;
  return __half2float(__half(raw));
}
uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

size_t elem_size(int t) { return t == R_32F ? 4 : 2; }

double get(const void* base, int t, size_t i) {
  if (t == R_32F) return static_cast<const float*>(base)[i];
  uint16_t b = static_cast<const uint16_t*>(base)[i];
  return t == R_16BF ? bf16_value(b) : f16_value(b);
}
void put(void* base, int t, size_t i, float v) {   // v must be exact in t
  if (t == R_32F) {
    static_cast<float*>(base)[i] = v;
  } else {
    static_cast<uint16_t*>(base)[i] = t == R_16BF ? bf16_bits(v) : f16_bits(v);
  }
}
void put_nan(void* base, int t, size_t i) {
  if (t == R_32F) {
    static_cast<float*>(base)[i] = std::numeric_limits<float>::quiet_NaN();
  } else {
    static_cast<uint16_t*>(base)[i] = t == R_16BF ? 0x7fc0 : 0x7e00;
  }
}
// The rounding of a float to the output type, done here independently of cuda_bf16.h: round to nearest, ties to even.
uint32_t round_bits(float v, int t) {
  if (t == R_32F) return f32_bits(v);
  if (t == R_16BF) {
    uint32_t u = f32_bits(v);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;   // NaN
    uint32_t lsb = (u >> 16) & 1u;
    return (u + 0x7fffu + lsb) >> 16;
  }
  return f16_bits(v);   // FP16 rounding is checked by hand in gemm_rounding_by_hand
}
uint32_t bits_at(const void* base, int t, size_t i) {
  return t == R_32F ? static_cast<const uint32_t*>(base)[i] : static_cast<const uint16_t*>(base)[i];
}

uint64_t g_rng = 0x9e3779b97f4a7c15ull;
int next_int(int lo, int hi) {   // inclusive
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return lo + static_cast<int>((g_rng >> 33) % static_cast<uint64_t>(hi - lo + 1));
}
// Small values with few mantissa bits, exact in BF16 and FP16: products and partial sums stay far from overflow.
float small_value() { return static_cast<float>(next_int(-64, 64)) / 16.0f; }

// ---- cuBLAS ----

struct GemmCase {
  int transa, transb, m, n, k, lda, ldb, ldc;
  int at, ct;
  float alpha, beta;
};

// One GEMM in fresh allocations sized exactly to the extents, with NaN in every padding element (and in C when
// beta == 0), against the double reference (bound) and the FP32-contract loop (bits); padding of C must be untouched.
void run_gemm_case(Check& chk, void* handle, const GemmCase& g) {
  const int a_rows = g.transa == OP_N ? g.m : g.k, a_cols = g.transa == OP_N ? g.k : g.m;
  const int b_rows = g.transb == OP_N ? g.k : g.n, b_cols = g.transb == OP_N ? g.n : g.k;
  const size_t a_elems = static_cast<size_t>(a_cols - 1) * g.lda + a_rows;
  const size_t b_elems = static_cast<size_t>(b_cols - 1) * g.ldb + b_rows;
  const size_t c_elems = static_cast<size_t>(g.n - 1) * g.ldc + g.m;
  const size_t es = elem_size(g.at), cs = elem_size(g.ct);
  void* A = dalloc(a_elems * es);
  void* B = dalloc(b_elems * es);
  void* C = dalloc(c_elems * cs);
  for (size_t i = 0; i < a_elems; ++i) {
    if (static_cast<int>(i % g.lda) < a_rows) put(A, g.at, i, small_value()); else put_nan(A, g.at, i);
  }
  for (size_t i = 0; i < b_elems; ++i) {
    if (static_cast<int>(i % g.ldb) < b_rows) put(B, g.at, i, small_value()); else put_nan(B, g.at, i);
  }
  std::vector<uint32_t> c_before(c_elems);
  for (size_t i = 0; i < c_elems; ++i) {
    if (static_cast<int>(i % g.ldc) < g.m && g.beta != 0.0f) put(C, g.ct, i, small_value()); else put_nan(C, g.ct, i);
    c_before[i] = bits_at(C, g.ct, i);
  }
  std::vector<double> c0(c_elems);
  for (size_t i = 0; i < c_elems; ++i) c0[i] = get(C, g.ct, i);

  int st = cublasGemmEx(handle, g.transa, g.transb, g.m, g.n, g.k, &g.alpha, A, g.at, g.lda, B, g.at, g.ldb, &g.beta,
                        C, g.ct, g.ldc, COMPUTE_32F, ALGO_DEFAULT);
  char what[160];
  std::snprintf(what, sizeof what, "op %c%c m=%d n=%d k=%d lda=%d ldb=%d ldc=%d types %d->%d alpha=%g beta=%g",
                "NTC"[g.transa], "NTC"[g.transb], g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.at, g.ct, g.alpha, g.beta);
  chk.expect(st == ST_OK, "%s: status %d (%s)", what, st, nemotronEmuLastError());
  if (st == ST_OK) {
    auto opa = [&](int i, int p) {
      return get(A, g.at, g.transa == OP_N ? i + static_cast<size_t>(p) * g.lda : p + static_cast<size_t>(i) * g.lda);
    };
    auto opb = [&](int p, int j) {
      return get(B, g.at, g.transb == OP_N ? p + static_cast<size_t>(j) * g.ldb : j + static_cast<size_t>(p) * g.ldb);
    };
    const double u = std::ldexp(1.0, -24);
    const double out_u = g.ct == R_16BF ? std::ldexp(1.0, -8) : g.ct == R_16F ? std::ldexp(1.0, -11) : u;
    int reported = 0;
    for (int j = 0; j < g.n; ++j) {
      for (int i = 0; i < g.m; ++i) {
        double exact = 0, magnitude = 0;
        float acc = 0.0f;   // the contract, written independently: float product, float add, increasing k
        for (int p = 0; p < g.k; ++p) {
          double a = opa(i, p), b = opb(p, j);
          exact += a * b;
          magnitude += std::fabs(a * b);
          float prod = static_cast<float>(a) * static_cast<float>(b);
          acc = acc + prod;
        }
        const size_t idx = static_cast<size_t>(i) + static_cast<size_t>(j) * g.ldc;
        double ref = g.alpha * exact + (g.beta != 0.0f ? g.beta * c0[idx] : 0.0);
        float contract = g.alpha * acc;
        if (g.beta != 0.0f) contract = contract + g.beta * static_cast<float>(c0[idx]);
        double got = get(C, g.ct, idx);
        const double beta_c = g.beta != 0.0f ? std::fabs(g.beta * c0[idx]) : 0.0;
        double bound = (g.k + 3) * u * (std::fabs(g.alpha) * magnitude + beta_c) * 1.01 +
                       out_u * std::fabs(ref) * 1.01 + 1e-30;
        bool near = std::fabs(got - ref) <= bound;
        bool bits = bits_at(C, g.ct, idx) == round_bits(contract, g.ct);
        if ((!near || !bits) && reported++ < 3) {
          chk.expect(false, "%s: C(%d,%d) = %.9g, double reference %.9g (bound %.3g), contract bits %s", what, i, j,
                     got, ref, bound, bits ? "equal" : "differ");
        }
      }
    }
    for (size_t i = 0; i < c_elems; ++i) {
      if (static_cast<int>(i % g.ldc) >= g.m && bits_at(C, g.ct, i) != c_before[i] && reported++ < 4) {
        chk.expect(false, "%s: padding element %zu of C was written", what, i);
      }
    }
  }
  dfree(A);
  dfree(B);
  dfree(C);
}

void cublas_handles() {
  Check chk("cublas handle calls");
  void* h = nullptr;
  chk.expect(cublasCreate_v2(&h) == ST_OK && h != nullptr, "cublasCreate_v2");
  chk.expect(cublasCreate_v2(nullptr) == ST_INVALID, "cublasCreate_v2(NULL)");
  void* s = reinterpret_cast<void*>(0x1);
  chk.expect(cublasGetStream_v2(h, &s) == ST_OK && s == nullptr, "the default stream is the legacy default (NULL)");
  CUstream stream;
  cuStreamCreate(&stream, 0);
  chk.expect(cublasSetStream_v2(h, stream) == ST_OK, "cublasSetStream_v2");
  chk.expect(cublasGetStream_v2(h, &s) == ST_OK && s == stream, "cublasGetStream_v2 returns the stream set");
  chk.expect(cublasGetStream_v2(h, nullptr) == ST_INVALID, "cublasGetStream_v2(NULL out)");
  int mode = -1;
  chk.expect(cublasGetMathMode(h, &mode) == ST_OK && mode == 0, "default math mode 0, got %d", mode);
  chk.expect(cublasSetMathMode(h, 3 | 16) == ST_OK && cublasGetMathMode(h, &mode) == ST_OK && mode == 19,
             "math mode TF32 | DISALLOW_REDUCED_PRECISION_REDUCTION round trip, got %d", mode);
  chk.expect(cublasSetMathMode(h, 7) == ST_INVALID, "math mode 7 is invalid");
  void* ws = dalloc(4096);
  chk.expect(cublasSetWorkspace_v2(h, ws, 4096) == ST_OK, "cublasSetWorkspace_v2 on a device allocation");
  chk.expect(cublasSetWorkspace_v2(h, static_cast<char*>(ws) + 16, 1024) == ST_INVALID, "a workspace not 256-aligned");
  chk.expect(cublasSetWorkspace_v2(h, ws, 8192) == ST_INVALID, "a workspace past its allocation");
  chk.expect(cublasSetWorkspace_v2(h, nullptr, 0) == ST_OK, "back to cuBLAS's own workspace");
  dfree(ws);
  int version = 0;
  chk.expect(cublasGetVersion_v2(h, &version) == ST_OK && version / 10000 == 13, "version %d is cuBLAS 13.x", version);
  chk.expect(std::strcmp(cublasGetStatusName(7), "CUBLAS_STATUS_INVALID_VALUE") == 0, "status name 7");
  chk.expect(std::strcmp(cublasGetStatusName(15), "CUBLAS_STATUS_NOT_SUPPORTED") == 0, "status name 15");
  chk.expect(std::strlen(cublasGetStatusString(13)) > 0, "status string 13");
  chk.expect(cublasDestroy_v2(h) == ST_OK, "cublasDestroy_v2");
  // after destroy, and null: NOT_INITIALIZED
  chk.expect(cublasDestroy_v2(h) == ST_NOT_INIT, "double destroy");
  chk.expect(cublasSetStream_v2(h, nullptr) == ST_NOT_INIT, "set stream after destroy");
  chk.expect(cublasGetMathMode(nullptr, &mode) == ST_NOT_INIT, "null handle");
  float one = 1, zero = 0;
  int st = cublasGemmEx(h, OP_T, OP_N, 1, 1, 1, &one, nullptr, R_16BF, 1, nullptr, R_16BF, 1, &zero, nullptr, R_32F, 1,
                        COMPUTE_32F, ALGO_DEFAULT);
  chk.expect(st == ST_NOT_INIT, "GEMM on a destroyed handle: %d", st);
  chk.expect(contains(nemotronEmuLastError(), "cublasGemmEx"), "detail names the call: %s", nemotronEmuLastError());
  cuStreamDestroy_v2(stream);
}

void cublas_gemm_sweep() {
  const int sizes[] = {1, 3, 17, 33, 64, 65};
  const int type_pairs[][2] = {{R_16BF, R_16BF}, {R_16BF, R_32F}, {R_16F, R_16F}, {R_16F, R_32F}, {R_32F, R_32F}};
  void* h = nullptr;
  cublasCreate_v2(&h);
  int index = 0;
  for (const auto& tp : type_pairs) {
    char name[96];
    std::snprintf(name, sizeof name, "cublasGemmEx sweep A/B type %d -> C type %d (4 op combos, sizes 1..65)", tp[0],
                  tp[1]);
    Check chk(name);
    for (int ta : {OP_N, OP_T}) {
      for (int tb : {OP_N, OP_T}) {
        for (int m : sizes) {
          for (int n : sizes) {
            for (int k : sizes) {
              ++index;
              // every third case pads each leading dimension (by 1..5), else the minimum
              const int pad = index % 3 == 0 ? 1 + index % 5 : 0;
              GemmCase g{};
              g.transa = ta;
              g.transb = tb;
              g.m = m;
              g.n = n;
              g.k = k;
              g.lda = std::max(1, ta == OP_N ? m : k) + pad;
              g.ldb = std::max(1, tb == OP_N ? k : n) + pad;
              g.ldc = std::max(1, m) + pad;
              g.at = tp[0];
              g.ct = tp[1];
              const float alphas[] = {1.0f, 1.5f, -0.75f};
              g.alpha = alphas[index % 3];
              g.beta = index % 2 == 0 ? 0.0f : 0.5f;
              run_gemm_case(chk, h, g);
            }
          }
        }
      }
    }
  }
  std::printf("INFO the sweep checked %d GEMMs\n", index);
  {
    Check chk("cublasGemmEx OP_C equals OP_T for real types");
    GemmCase g{OP_C, OP_C, 17, 5, 33, 33 + 2, 5, 17, R_16BF, R_32F, 1.0f, 0.0f};
    run_gemm_case(chk, h, g);
  }
  {
    // long k (a tail of 4 after whole cache lines), the decode paths over many row groups, and more columns than one
    // chunk of widened B holds (16 MiB / (4 k) = 1022 columns)
    Check chk("cublasGemmEx large shapes: k 4100, decode paths, B in two chunks");
    const GemmCase cases[] = {
        {OP_T, OP_N, 96, 1, 4100, 4100, 4100, 96, R_16BF, R_16BF, 1.0f, 0.0f},
        {OP_T, OP_N, 96, 3, 4100, 4103, 4101, 97, R_16BF, R_32F, 1.0f, 0.5f},
        {OP_N, OP_N, 96, 2, 4100, 96, 4100, 96, R_16BF, R_16BF, -0.75f, 0.0f},
        {OP_T, OP_N, 33, 1030, 4100, 4100, 4100, 33, R_16BF, R_32F, 1.0f, 0.0f},
        {OP_N, OP_T, 40, 5, 300, 41, 6, 40, R_32F, R_32F, 1.5f, 0.5f},
        {OP_T, OP_N, 64, 2, 300, 300, 300, 64, R_16F, R_16F, 1.0f, 0.0f},
    };
    for (const GemmCase& g : cases) run_gemm_case(chk, h, g);
  }
  cublasDestroy_v2(h);
}

// One GEMM m = n = 1 over BF16 (or FP16) inputs a[] and b[] (transa = T, transb = N); returns C's bits.
uint32_t dot_bits(void* h, int at, int ct, const std::vector<float>& a, const std::vector<float>& b, float alpha,
                  float beta, float c_in, int* status) {
  const int k = static_cast<int>(a.size());
  void* A = dalloc(k * elem_size(at));
  void* B = dalloc(k * elem_size(at));
  void* C = dalloc(elem_size(ct));
  for (int p = 0; p < k; ++p) {
    put(A, at, p, a[p]);
    put(B, at, p, b[p]);
  }
  if (std::isnan(c_in)) put_nan(C, ct, 0); else put(C, ct, 0, c_in);
  *status = cublasGemmEx(h, OP_T, OP_N, 1, 1, k, &alpha, A, at, k, B, at, k, &beta, C, ct, 1, COMPUTE_32F,
                         ALGO_DEFAULT);
  uint32_t bits = bits_at(C, ct, 0);
  dfree(A);
  dfree(B);
  dfree(C);
  return bits;
}

void cublas_rounding_by_hand() {
  Check chk("cublasGemmEx BF16/FP16 rounding and FP32 accumulation order, by hand");
  void* h = nullptr;
  cublasCreate_v2(&h);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  int st = 0;
  // 256 + 1.5 = 257.5: BF16 spacing above 256 is 2, 257.5 is nearer 258 = 0x4381
  chk.expect(dot_bits(h, R_16BF, R_16BF, {256, 1}, {1, 1.5f}, 1, 0, nan, &st) == 0x4381 && st == 0, "257.5 -> 258");
  // 256 + 1 = 257: a tie between 256 (0x4380, even) and 258 (0x4381): 256
  chk.expect(dot_bits(h, R_16BF, R_16BF, {256, 1}, {1, 1}, 1, 0, nan, &st) == 0x4380, "257 -> 256 (tie to even)");
  // 1 + 2^-8: a tie between 1.0 (0x3f80) and 1 + 2^-7 (0x3f81): 0x3f80
  chk.expect(dot_bits(h, R_16BF, R_16BF, {1, std::ldexp(1.0f, -8)}, {1, 1}, 1, 0, nan, &st) == 0x3f80,
             "1 + 2^-8 -> 1");
  // 1 + 3 * 2^-8: a tie between 1 + 2^-7 (0x3f81) and 1 + 2^-6 (0x3f82, even): 0x3f82
  chk.expect(dot_bits(h, R_16BF, R_16BF, {1, 3 * std::ldexp(1.0f, -8)}, {1, 1}, 1, 0, nan, &st) == 0x3f82,
             "1 + 3*2^-8 -> 1 + 2^-6");
  // -257.5 -> -258 = 0xc381 (sign symmetric)
  chk.expect(dot_bits(h, R_16BF, R_16BF, {-256, -1}, {1, 1.5f}, 1, 0, nan, &st) == 0xc381, "-257.5 -> -258");
  // FP16: 1 + 2^-11 is a tie between 1 (0x3c00) and 1 + 2^-10 (0x3c01): 0x3c00; 1 + 3 * 2^-11 -> 1 + 2^-9 (0x3c02)
  chk.expect(dot_bits(h, R_16F, R_16F, {1, std::ldexp(1.0f, -11)}, {1, 1}, 1, 0, nan, &st) == 0x3c00,
             "fp16 1 + 2^-11 -> 1");
  chk.expect(dot_bits(h, R_16F, R_16F, {1, 3 * std::ldexp(1.0f, -11)}, {1, 1}, 1, 0, nan, &st) == 0x3c02,
             "fp16 1 + 3*2^-11 -> 1 + 2^-9");
  // FP32 accumulation in increasing k: (2^24 + 1) + 1 = 2^24 (each add a tie to even); reversed it would be 2^24 + 2
  chk.expect(dot_bits(h, R_16BF, R_32F, {16777216.0f, 1, 1}, {1, 1, 1}, 1, 0, nan, &st) == f32_bits(16777216.0f),
             "sum in k order: 2^24 + 1 + 1 = 2^24 in float");
  chk.expect(dot_bits(h, R_16BF, R_32F, {1, 1, 16777216.0f}, {1, 1, 1}, 1, 0, nan, &st) == f32_bits(16777218.0f),
             "1 + 1 + 2^24 = 2^24 + 2 in float");
  // alpha and beta: 2 * (1*1 + 2*1) + 0.5 * 1 = 6.5
  chk.expect(dot_bits(h, R_16BF, R_32F, {1, 2}, {1, 1}, 2, 0.5f, 1, &st) == f32_bits(6.5f), "alpha 2, beta 0.5");
  // beta = 0 with NaN in C: C is not read
  chk.expect(dot_bits(h, R_16BF, R_32F, {1, 2}, {1, 1}, 1, 0, nan, &st) == f32_bits(3.0f), "beta 0 ignores NaN C");
  // beta != 0 reads C: NaN propagates
  chk.expect(std::isnan(bf16_value(static_cast<uint16_t>(dot_bits(h, R_16BF, R_16BF, {1}, {1}, 1, 1, nan, &st)))),
             "beta 1 reads a NaN C");
  // alpha = 0: C = beta * C and A, B are not read (reference BLAS): NaN in A does not reach C
  chk.expect(dot_bits(h, R_16BF, R_32F, {nan, 1}, {1, 1}, 0, 2, 1.5f, &st) == f32_bits(3.0f), "alpha 0: C = beta C");
  cublasDestroy_v2(h);
}

void cublas_errors() {
  Check chk("cublasGemmEx argument checks and extents");
  void* h = nullptr;
  cublasCreate_v2(&h);
  float one = 1, zero = 0;
  const int m = 4, n = 3, k = 5;
  void* A = dalloc(k * m * 2);   // T: k x m, lda = k
  void* B = dalloc(k * n * 2);   // N: k x n, ldb = k
  void* C = dalloc(m * n * 4);   // m x n, ldc = m
  std::memset(A, 0, k * m * 2);
  std::memset(B, 0, k * n * 2);
  auto gemm = [&](int ta, int tb, int mm, int nn, int kk, const void* a, int lda, const void* b, int ldb, void* c,
                  int ldc, int at = R_16BF, int bt = R_16BF, int ct = R_32F, int compute = COMPUTE_32F,
                  int algo = ALGO_DEFAULT, const void* alpha = nullptr, const void* beta = nullptr) {
    return cublasGemmEx(h, ta, tb, mm, nn, kk, alpha ? alpha : &one, a, at, lda, b, bt, ldb, beta ? beta : &zero, c,
                        ct, ldc, compute, algo);
  };
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, C, m) == ST_OK, "the valid call");
  // leading dimensions: lda >= max(1, transa == N ? m : k), ldb >= max(1, transb == N ? k : n), ldc >= max(1, m)
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k - 1, B, k, C, m) == ST_INVALID, "lda k-1");
  chk.expect(contains(nemotronEmuLastError(), "lda"), "detail names lda: %s", nemotronEmuLastError());
  chk.expect(gemm(OP_N, OP_N, m, n, k, A, m - 1, B, k, C, m) == ST_INVALID, "lda m-1 with transa N");
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k - 1, C, m) == ST_INVALID, "ldb k-1");
  chk.expect(gemm(OP_T, OP_T, m, n, k, A, k, B, n - 1, C, m) == ST_INVALID, "ldb n-1 with transb T");
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, C, m - 1) == ST_INVALID, "ldc m-1");
  chk.expect(gemm(OP_T, OP_N, 0, n, k, A, k, B, k, C, 0) == ST_INVALID, "ldc 0 with m 0 (max(1, m) = 1)");
  chk.expect(gemm(OP_N, OP_N, 0, n, k, A, 0, B, k, C, 1) == ST_INVALID, "lda 0 with m 0 and transa N");
  chk.expect(gemm(OP_T, OP_N, -1, n, k, A, k, B, k, C, m) == ST_INVALID, "m -1");
  chk.expect(gemm(OP_T, OP_N, m, -1, k, A, k, B, k, C, m) == ST_INVALID, "n -1");
  chk.expect(gemm(OP_T, OP_N, m, n, -1, A, k, B, k, C, m) == ST_INVALID, "k -1");
  chk.expect(gemm(3, OP_N, m, n, k, A, k, B, k, C, m) == ST_INVALID, "transa 3 (CUBLAS_OP_CONJG) is not for GEMM");
  chk.expect(gemm(OP_T, 7, m, n, k, A, k, B, k, C, m) == ST_INVALID, "transb 7");
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, C, m, R_16BF, R_16BF, R_32F, COMPUTE_32F, 42) == ST_INVALID,
             "algo 42");
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, C, m, R_16BF, R_16BF, R_32F, COMPUTE_32F, 99) == ST_OK,
             "algo CUBLAS_GEMM_DEFAULT_TENSOR_OP");
  chk.expect(cublasGemmEx(h, OP_T, OP_N, m, n, k, nullptr, A, R_16BF, k, B, R_16BF, k, &zero, C, R_32F, m,
                          COMPUTE_32F, ALGO_DEFAULT) == ST_INVALID, "alpha NULL");
  chk.expect(cublasGemmEx(h, OP_T, OP_N, m, n, k, &one, A, R_16BF, k, B, R_16BF, k, C, C, R_32F, m, COMPUTE_32F,
                          ALGO_DEFAULT) == ST_INVALID, "beta is a device pointer (pointer mode host)");
  // type combinations outside cublasGemmEx's table, and other compute types
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, C, m, R_16BF, R_16BF, R_32F, COMPUTE_64F) == ST_NOT_SUPPORTED,
             "compute 64F");
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, C, m, R_16BF, R_16F, R_32F) == ST_NOT_SUPPORTED, "A BF16, B FP16");
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, C, m, R_16BF, R_16BF, R_16F) == ST_NOT_SUPPORTED, "BF16 -> FP16");
  chk.expect(gemm(OP_T, OP_N, m, n, 2, C, 2, C, 2, A, m, R_32F, R_32F, R_16BF) == ST_NOT_SUPPORTED, "FP32 -> BF16");
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, C, m, R_8I, R_8I, R_32F) == ST_NOT_SUPPORTED, "INT8 not emulated");
  // m or n == 0: a quick return that touches nothing (null pointers are fine)
  chk.expect(gemm(OP_T, OP_N, 0, n, k, nullptr, k, nullptr, k, nullptr, 1) == ST_OK, "m 0 quick return");
  chk.expect(gemm(OP_T, OP_N, m, 0, k, nullptr, k, nullptr, k, nullptr, m) == ST_OK, "n 0 quick return");
  // k == 0: C = beta * C (reference BLAS), A and B untouched
  float* c = static_cast<float*>(C);
  for (int i = 0; i < m * n; ++i) c[i] = std::numeric_limits<float>::quiet_NaN();
  chk.expect(gemm(OP_T, OP_N, m, n, 0, nullptr, 1, nullptr, 1, C, m) == ST_OK, "k 0");
  bool zeros = true;
  for (int i = 0; i < m * n; ++i) zeros = zeros && f32_bits(c[i]) == 0;
  chk.expect(zeros, "k 0 with beta 0 writes zeros over NaN");
  for (int i = 0; i < m * n; ++i) c[i] = 3;
  float two = 2;
  chk.expect(gemm(OP_T, OP_N, m, n, 0, nullptr, 1, nullptr, 1, C, m, R_16BF, R_16BF, R_32F, COMPUTE_32F,
                  ALGO_DEFAULT, &one, &two) == ST_OK && c[0] == 6 && c[m * n - 1] == 6, "k 0 with beta 2: C = 2 C");

  // extents: every byte the GEMM touches must be in one live allocation
  std::memset(C, 0, m * n * 4);
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, C, m + 1) == ST_INVALID, "ldc m+1 runs past C's allocation");
  chk.expect(contains(nemotronEmuLastError(), "C (") && contains(nemotronEmuLastError(), "cublasGemmEx"),
             "detail names C and the call: %s", nemotronEmuLastError());
  chk.expect(gemm(OP_T, OP_N, m, n, k, static_cast<char*>(A) + 2, k, B, k, C, m) == ST_INVALID,
             "A shifted by one element");
  chk.expect(contains(nemotronEmuLastError(), "A ("), "detail names A: %s", nemotronEmuLastError());
  std::vector<uint16_t> host(k * n);
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, host.data(), k, C, m) == ST_INVALID, "B in host memory");
  chk.expect(contains(nemotronEmuLastError(), "B ("), "detail names B: %s", nemotronEmuLastError());
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, nullptr, m) == ST_INVALID, "C NULL");
  void* freed = dalloc(m * n * 4);
  dfree(freed);
  chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, freed, m) == ST_INVALID, "C freed");
  // C overlapping an input
  void* big = dalloc(4096);
  chk.expect(gemm(OP_T, OP_N, m, n, k, big, k, B, k, static_cast<char*>(big) + 8, m) == ST_INVALID, "C overlaps A");
  dfree(big);
  // on another device than the handle's
  if (g_devices >= 2) {
    set_device(1);
    void* other = dalloc(m * n * 4);
    set_device(0);
    chk.expect(gemm(OP_T, OP_N, m, n, k, A, k, B, k, other, m) == ST_INVALID, "C on device 1, handle on device 0");
    chk.expect(contains(nemotronEmuLastError(), "device"), "detail names the device: %s", nemotronEmuLastError());
    dfree(other);
  }
  dfree(A);
  dfree(B);
  dfree(C);
  cublasDestroy_v2(h);
}

void cublas_capture() {
  Check chk("cublasGemmEx in stream order: captured, replayed by cuGraphLaunch, re-checked at replay");
  void* h = nullptr;
  cublasCreate_v2(&h);
  CUstream s;
  cuStreamCreate(&s, 0);
  cublasSetStream_v2(h, s);
  const int k = 3;
  void* A = dalloc(k * 2);
  void* B = dalloc(k * 2);
  void* C = dalloc(4);
  for (int p = 0; p < k; ++p) {
    put(A, R_16BF, p, static_cast<float>(p + 1));   // 1 2 3
    put(B, R_16BF, p, 1.0f);
  }
  static_cast<float*>(C)[0] = -1;
  float one = 1, zero = 0;
  chk.expect(cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL) == CUDA_SUCCESS, "begin capture");
  int st = cublasGemmEx(h, OP_T, OP_N, 1, 1, k, &one, A, R_16BF, k, B, R_16BF, k, &zero, C, R_32F, 1, COMPUTE_32F,
                        ALGO_DEFAULT);
  one = 100;   // alpha was copied at the call: the replay must still use 1
  CUgraph graph;
  CUgraphExec exec;
  chk.expect(cuStreamEndCapture(s, &graph) == CUDA_SUCCESS, "end capture");
  chk.expect(st == ST_OK && static_cast<float*>(C)[0] == -1, "captured, not run: status %d, C %g", st,
             static_cast<float*>(C)[0]);
  chk.expect(cuGraphInstantiateWithFlags(&exec, graph, 0) == CUDA_SUCCESS, "instantiate");
  chk.expect(cuGraphLaunch(exec, s) == CUDA_SUCCESS && static_cast<float*>(C)[0] == 6, "replay: 1+2+3 = 6, got %g",
             static_cast<float*>(C)[0]);
  put(B, R_16BF, 2, 2.0f);
  chk.expect(cuGraphLaunch(exec, s) == CUDA_SUCCESS && static_cast<float*>(C)[0] == 9, "replay reads B now: 9, got %g",
             static_cast<float*>(C)[0]);
  dfree(A);
  CUresult rc = cuGraphLaunch(exec, s);
  chk.expect(rc != CUDA_SUCCESS, "replay after A was freed fails (CUresult %d)", rc);
  chk.expect(contains(nemotronEmuLastError(), "A ("), "replay detail names A: %s", nemotronEmuLastError());
  cuGraphExecDestroy(exec);
  cuGraphDestroy(graph);
  dfree(B);
  dfree(C);
  cublasDestroy_v2(h);
  cuStreamDestroy_v2(s);
}

void cublas_speed() {
  // decode shape: W [2048][2048] BF16 row-major (transa = T), one token
  const int m = 2048, k = 2048;
  void* h = nullptr;
  cublasCreate_v2(&h);
  void* A = dalloc(static_cast<size_t>(m) * k * 2);
  void* B = dalloc(k * 2);
  void* C = dalloc(m * 2);
  for (size_t i = 0; i < static_cast<size_t>(m) * k; ++i) static_cast<uint16_t*>(A)[i] = bf16_bits(small_value());
  for (int i = 0; i < k; ++i) static_cast<uint16_t*>(B)[i] = bf16_bits(small_value());
  float one = 1, zero = 0;
  double best = 1e30;   // the best of 10: the machine may be busy
  for (int r = 0; r < 10; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    cublasGemmEx(h, OP_T, OP_N, m, 1, k, &one, A, R_16BF, k, B, R_16BF, k, &zero, C, R_16BF, m, COMPUTE_32F,
                 ALGO_DEFAULT);
    best = std::min(best, seconds_since(t0));
  }
  std::printf("INFO cublasGemmEx T,N %dx%d by 1 token (BF16): %.2f ms per call, %.2f GMAC/s\n", m, k, best * 1e3,
              static_cast<double>(m) * k / best / 1e9);
  dfree(A);
  dfree(B);
  dfree(C);
  cublasDestroy_v2(h);
}

// ---- NCCL ----

// Runs body(rank) on one thread per rank, each with device `rank` current.
void on_ranks(int n, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([r, &body] {
      set_device(r);
      body(r);
    });
  }
  for (auto& t : threads) t.join();
}

std::vector<void*> init_all(int n) {
  std::vector<void*> comms(n);
  std::vector<int> devs(n);
  for (int i = 0; i < n; ++i) devs[i] = i;
  if (ncclCommInitAll(comms.data(), n, devs.data()) != nSuccess) {
    std::printf("FAIL setup: ncclCommInitAll(%d): %s\n", n, ncclGetLastError(nullptr));
    std::exit(1);
  }
  return comms;
}

// Allocations on each rank's device.
std::vector<void*> alloc_ranks(int n, size_t bytes) {
  std::vector<void*> out(n);
  for (int r = 0; r < n; ++r) {
    set_device(r);
    out[r] = dalloc(bytes);
  }
  set_device(0);
  return out;
}

void free_all(const std::vector<void*>& v) {
  for (void* p : v) dfree(p);
}

void nccl_basics() {
  Check chk("nccl version, unique ids, error strings");
  int v = 0;
  chk.expect(ncclGetVersion(&v) == nSuccess && v >= 22800 && v < 22900, "version %d is 2.28.x", v);
  ncclUniqueId a, b;
  chk.expect(ncclGetUniqueId(&a) == nSuccess && ncclGetUniqueId(&b) == nSuccess, "ncclGetUniqueId");
  chk.expect(std::memcmp(&a, &b, sizeof a) != 0, "two ids differ");
  chk.expect(ncclGetUniqueId(nullptr) == nInvalidArgument, "ncclGetUniqueId(NULL)");
  chk.expect(std::strcmp(ncclGetErrorString(0), "no error") == 0, "error string 0");
  chk.expect(ncclGroupEnd() == nInvalidUsage, "ncclGroupEnd without ncclGroupStart");
  chk.expect(contains(ncclGetErrorString(nInvalidUsage), "ncclGroupEnd"), "error string carries the detail: %s",
             ncclGetErrorString(nInvalidUsage));
  chk.expect(contains(ncclGetLastError(nullptr), "ncclGroupEnd"), "ncclGetLastError: %s", ncclGetLastError(nullptr));
  void* comm = nullptr;
  ncclUniqueId garbage;
  std::memset(&garbage, 0, sizeof garbage);
  chk.expect(ncclCommInitRank(&comm, 1, garbage, 0) == nInvalidArgument, "an id not from ncclGetUniqueId");
  chk.expect(ncclCommInitRank(&comm, 2, a, 2) == nInvalidArgument, "rank outside nranks");
  chk.expect(ncclCommInitRank(&comm, 0, a, 0) == nInvalidArgument, "nranks 0");
  chk.expect(ncclCommDestroy(nullptr) == nSuccess && ncclCommAbort(nullptr) == nSuccess, "NULL destroy/abort");
  int x = 0;
  chk.expect(ncclCommCount(reinterpret_cast<void*>(0x1234), &x) == nInvalidArgument, "a made-up comm");
  // one rank by unique id: all-reduce is the identity (a copy), all-gather a copy
  chk.expect(ncclCommInitRank(&comm, 1, a, 0) == nSuccess, "one rank: %s", ncclGetLastError(nullptr));
  float* f = static_cast<float*>(dalloc(16));
  float* g = static_cast<float*>(dalloc(16));
  const float in[4] = {1.5f, -2, 1e8f, 0.25f};
  std::memcpy(f, in, 16);
  chk.expect(ncclAllReduce(f, f, 4, nFloat32, nSum, comm, nullptr) == nSuccess && std::memcmp(f, in, 16) == 0,
             "one-rank all-reduce in place");
  chk.expect(ncclAllGather(f, g, 4, nFloat32, comm, nullptr) == nSuccess && std::memcmp(g, in, 16) == 0,
             "one-rank all-gather");
  chk.expect(ncclAllReduce(f, g, 0, nFloat32, nSum, comm, nullptr) == nSuccess, "count 0 is a no-op");
  chk.expect(ncclCommDestroy(comm) == nSuccess, "destroy");
  chk.expect(ncclCommDestroy(comm) == nInvalidArgument && contains(ncclGetLastError(nullptr), "destroyed"),
             "destroy twice: %s", ncclGetLastError(nullptr));
  chk.expect(ncclAllReduce(f, f, 4, nFloat32, nSum, comm, nullptr) == nInvalidArgument, "use after destroy");
  dfree(f);
  dfree(g);
}

// Rank r's element i (i >= 1): (r + 1) * (i - 500) / 4, so the sum is (i - 500) / 4 * n(n+1)/2, exact in float.
float rank_value(int r, int i) { return (r + 1) * (i - 500) * 0.25f; }

void nccl_threads(int n) {
  char name[96];
  std::snprintf(name, sizeof name, "nccl %d ranks as threads (ncclCommInitRank): all-reduce, all-gather", n);
  Check chk(name);
  if (g_devices < n) {
    chk.skip("not enough devices");
    return;
  }
  ncclUniqueId id;
  ncclGetUniqueId(&id);
  const int count = 1000;
  std::vector<void*> f32 = alloc_ranks(n, count * 4);
  std::vector<void*> bf = alloc_ranks(n, 2 * 2);
  std::vector<void*> gather = alloc_ranks(n, static_cast<size_t>(n) * 3 * 4);
  std::vector<void*> gather_bf = alloc_ranks(n, static_cast<size_t>(n) * 3 * 2);
  std::vector<void*> ints = alloc_ranks(n, 3 * 4);
  std::vector<void*> bytes = alloc_ranks(n, 1);
  std::vector<void*> ops = alloc_ranks(n, 4 * 4 * 4);
  std::vector<int> results(n, -1);
  // element 0 of the ranks: 1e8, 1, -1e8, 0, ...: in rank order ((1e8 + 1) - 1e8) + 0 = 0 for 4+ ranks, 1e8 for 2
  const float first[8] = {1e8f, 1, -1e8f, 0, 0, 0, 0, 0};
  // BF16: 256 + 0.5 + 0.5 + 0.5 = 257.5 in FP32 -> 258 (rounding once); rounding after each add would give 256.
  const float bf_in[4][2] = {{256, 1.5f}, {0.5f, 2.25f}, {0.5f, -0.75f}, {0.5f, 1}};
  on_ranks(n, [&](int r) {
    void* comm = nullptr;
    int rc = ncclCommInitRank(&comm, n, id, r);
    if (rc != nSuccess) {
      results[r] = rc;
      return;
    }
    int cnt = -1, rank = -1, dev = -1;
    ncclCommCount(comm, &cnt);
    ncclCommUserRank(comm, &rank);
    ncclCommCuDevice(comm, &dev);
    chk.expect(cnt == n && rank == r && dev == r, "rank %d: count %d, rank %d, device %d", r, cnt, rank, dev);
    float* x = static_cast<float*>(f32[r]);
    x[0] = first[r];
    for (int i = 1; i < count; ++i) x[i] = rank_value(r, i);
    int a = ncclAllReduce(x, x, count, nFloat32, nSum, comm, nullptr);
    uint16_t* b = static_cast<uint16_t*>(bf[r]);
    if (n == 4) {
      b[0] = bf16_bits(bf_in[r][0]);
      b[1] = bf16_bits(bf_in[r][1]);
    } else {
      b[0] = bf16_bits(static_cast<float>(r + 1));
      b[1] = bf16_bits(-0.5f * (r + 1));
    }
    int c = ncclAllReduce(b, b, 2, nBfloat16, nSum, comm, nullptr);
    // all-gather: send buffer apart (f32), in place (bf16: rank r's 3 values already at slot r)
    float send[3] = {10.0f * r + 1, 10.0f * r + 2, 10.0f * r + 3};
    float* sendbuf = static_cast<float*>(ops[r]);   // reused below; the gather reads it first
    std::memcpy(sendbuf, send, sizeof send);
    int d = ncclAllGather(sendbuf, gather[r], 3, nFloat32, comm, nullptr);
    uint16_t* gb = static_cast<uint16_t*>(gather_bf[r]);
    for (int i = 0; i < 3 * n; ++i) gb[i] = 0;
    for (int i = 0; i < 3; ++i) gb[3 * r + i] = bf16_bits(static_cast<float>(3 * r + i + 1));
    int e = ncclAllGather(gb + 3 * r, gb, 3, nBfloat16, comm, nullptr);
    // int32 sum (wrapping), int8 sum wrapping, and prod/max/min/avg on floats
    int32_t* iv = static_cast<int32_t*>(ints[r]);
    iv[0] = r + 1;
    iv[1] = r == 0 ? INT32_MAX : 1;   // INT32_MAX + (n - 1) wraps
    iv[2] = -(r + 1) * 7;
    int f = ncclAllReduce(iv, iv, 3, nInt32, nSum, comm, nullptr);
    int8_t* i8 = static_cast<int8_t*>(bytes[r]);
    i8[0] = r == 0 ? 127 : 1;
    int g = ncclAllReduce(i8, i8, 1, nInt8, nSum, comm, nullptr);
    float* o = static_cast<float*>(ops[r]);
    int h = 0;
    for (int op : {nProd, nMax, nMin, nAvg}) {
      float* v = o + 4 * op - 4;   // 4 floats per op
      v[0] = static_cast<float>(r + 1);
      v[1] = r == 1 ? -3.0f : 0.5f;
      v[2] = static_cast<float>(r % 3);
      v[3] = r == n - 1 ? std::numeric_limits<float>::quiet_NaN() : 1.0f;
      h |= ncclAllReduce(v, v, op == nAvg ? 3 : 4, nFloat32, op, comm, nullptr);
    }
    results[r] = a | c | d | e | f | g | h;
    chk.expect(ncclCommDestroy(comm) == nSuccess, "destroy rank %d", r);
  });
  for (int r = 0; r < n; ++r) {
    chk.expect(results[r] == nSuccess, "rank %d: results %d (%s)", r, results[r], ncclGetLastError(nullptr));
  }
  const int triangle = n * (n + 1) / 2;
  float factorial = 1;
  for (int r = 1; r <= n; ++r) factorial *= static_cast<float>(r);
  for (int r = 0; r < n; ++r) {
    const float* x = static_cast<const float*>(f32[r]);
    chk.expect(x[0] == (n == 2 ? 1e8f : 0.0f), "rank %d f32 element 0 = %g (rank order)", r, x[0]);
    bool all = true;
    for (int i = 1; i < count; ++i) all = all && x[i] == (i - 500) * 0.25f * triangle;
    chk.expect(all, "rank %d f32 sums", r);
    const uint16_t* b = static_cast<const uint16_t*>(bf[r]);
    if (n == 4) {
      chk.expect(b[0] == bf16_bits(258) && b[1] == bf16_bits(4), "rank %d bf16: %g %g, want 258 4", r,
                 bf16_value(b[0]), bf16_value(b[1]));
    } else {
      chk.expect(b[0] == bf16_bits(static_cast<float>(triangle)) && b[1] == bf16_bits(-0.5f * triangle),
                 "rank %d bf16: %g %g", r, bf16_value(b[0]), bf16_value(b[1]));
    }
    const float* gth = static_cast<const float*>(gather[r]);
    bool gathered = true;
    for (int q = 0; q < n; ++q) {
      for (int i = 0; i < 3; ++i) gathered = gathered && gth[3 * q + i] == 10.0f * q + i + 1;
    }
    chk.expect(gathered, "rank %d all-gather f32", r);
    const uint16_t* gb = static_cast<const uint16_t*>(gather_bf[r]);
    bool in_place = true;
    for (int i = 0; i < 3 * n; ++i) in_place = in_place && gb[i] == bf16_bits(static_cast<float>(i + 1));
    chk.expect(in_place, "rank %d all-gather bf16 in place", r);
    const int32_t* iv = static_cast<const int32_t*>(ints[r]);
    const int32_t wrapped = static_cast<int32_t>(static_cast<uint32_t>(INT32_MAX) + static_cast<uint32_t>(n - 1));
    chk.expect(iv[0] == triangle && iv[1] == wrapped && iv[2] == -7 * triangle, "rank %d int32: %d %d %d", r, iv[0],
               iv[1], iv[2]);
    const int8_t* i8 = static_cast<const int8_t*>(bytes[r]);
    chk.expect(i8[0] == static_cast<int8_t>(127 + (n - 1) - 256), "rank %d int8 wraps: %d", r, i8[0]);
    const float* o = static_cast<const float*>(ops[r]);
    // prod: n!, (-3 * 0.5^(n-1)), 0 (rank 0 holds 0), NaN (rank n-1)
    chk.expect(o[0] == factorial && o[1] == -3.0f * std::ldexp(1.0f, -(n - 1)) && o[2] == 0 && std::isnan(o[3]),
               "rank %d prod: %g %g %g %g", r, o[0], o[1], o[2], o[3]);
    // max: n, 0.5, min(2, n-1), NaN propagates
    chk.expect(o[4] == n && o[5] == 0.5f && o[6] == std::min(2, n - 1) && std::isnan(o[7]), "rank %d max: %g %g %g %g",
               r, o[4], o[5], o[6], o[7]);
    chk.expect(o[8] == 1 && o[9] == -3 && o[10] == 0 && std::isnan(o[11]), "rank %d min: %g %g %g %g", r, o[8], o[9],
               o[10], o[11]);
    // avg: (n+1)/2, (0.5 (n-1) - 3) / n, (sum of r%3) / n; element 3 untouched (count 3)
    float r3 = 0;
    for (int q = 0; q < n; ++q) r3 += static_cast<float>(q % 3);
    chk.expect(o[12] == (n + 1) / 2.0f && o[13] == (0.5f * (n - 1) - 3.0f) / n && o[14] == r3 / n,
               "rank %d avg: %g %g %g", r, o[12], o[13], o[14]);
  }
  free_all(f32);
  free_all(bf);
  free_all(gather);
  free_all(gather_bf);
  free_all(ints);
  free_all(bytes);
  free_all(ops);
}

void nccl_mismatch() {
  Check chk("nccl mismatched collectives fail on every rank, naming both calls, without a hang");
  if (g_devices < 3) {
    chk.skip("needs 3 devices");
    return;
  }
  std::vector<void*> comms = init_all(3);
  std::vector<void*> buf = alloc_ranks(3, 64 * 4);
  struct Call {
    int kind;   // 0 all-reduce, 1 all-gather
    size_t count;
    int type, op;
  };
  // rank 2 differs in count, then datatype, then op, then kind; then everyone agrees again
  const Call rounds[][3] = {
      {{0, 4, nFloat32, nSum}, {0, 4, nFloat32, nSum}, {0, 8, nFloat32, nSum}},
      {{0, 4, nFloat32, nSum}, {0, 4, nFloat32, nSum}, {0, 4, nBfloat16, nSum}},
      {{0, 4, nFloat32, nSum}, {0, 4, nFloat32, nSum}, {0, 4, nFloat32, nMax}},
      {{0, 4, nFloat32, nSum}, {0, 4, nFloat32, nSum}, {1, 4, nFloat32, nSum}},
      {{0, 4, nFloat32, nSum}, {0, 4, nFloat32, nSum}, {0, 4, nFloat32, nSum}},
  };
  for (int round = 0; round < 5; ++round) {
    std::vector<int> rc(3, -1);
    std::vector<std::string> detail(3);
    auto t0 = std::chrono::steady_clock::now();
    on_ranks(3, [&](int r) {
      const Call& c = rounds[round][r];
      float* b = static_cast<float*>(buf[r]);
      for (int i = 0; i < 4; ++i) b[i] = 1;
      rc[r] = c.kind == 0 ? ncclAllReduce(b, b, c.count, c.type, c.op, comms[r], nullptr)
                          : ncclAllGather(b, b + 16, c.count, c.type, comms[r], nullptr);
      detail[r] = ncclGetLastError(nullptr);
    });
    double s = seconds_since(t0);
    if (round < 4) {
      for (int r = 0; r < 3; ++r) {
        chk.expect(rc[r] == nInvalidUsage, "round %d rank %d: %d, want ncclInvalidUsage", round, r, rc[r]);
        chk.expect(contains(detail[r].c_str(), "mismatch") && contains(detail[r].c_str(), "rank 2 called"),
                   "round %d rank %d detail names both calls: %s", round, r, detail[r].c_str());
      }
      chk.expect(s < 5, "round %d took %.1f s", round, s);
    } else {
      bool ok = true;
      for (int r = 0; r < 3; ++r) ok = ok && rc[r] == nSuccess && static_cast<float*>(buf[r])[0] == 3;
      chk.expect(ok, "the communicator works again once the calls match: %d %d %d", rc[0], rc[1], rc[2]);
    }
  }
  for (void* c : comms) ncclCommDestroy(c);
  free_all(buf);
}

void nccl_abort() {
  Check chk("ncclCommAbort releases every waiting rank with ncclRemoteError; later calls fail at once");
  if (g_devices < 4) {
    chk.skip("needs 4 devices");
    return;
  }
  std::vector<void*> comms = init_all(4);
  std::vector<void*> buf = alloc_ranks(4, 16);
  for (int r = 0; r < 4; ++r) static_cast<float*>(buf[r])[0] = static_cast<float>(1 << r);
  std::vector<int> rc(4, -1);
  std::vector<double> took(4, 0);
  std::vector<std::thread> waiting;
  for (int r = 1; r < 4; ++r) {
    waiting.emplace_back([&, r] {
      set_device(r);
      auto t0 = std::chrono::steady_clock::now();
      rc[r] = ncclAllReduce(buf[r], buf[r], 1, nFloat32, nSum, comms[r], nullptr);
      took[r] = seconds_since(t0);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));   // rank 0 "failed" before its all-reduce
  chk.expect(ncclCommAbort(comms[0]) == nSuccess, "abort rank 0's communicator");
  for (auto& t : waiting) t.join();
  for (int r = 1; r < 4; ++r) {
    chk.expect(rc[r] == nRemoteError, "rank %d: %d, want ncclRemoteError", r, rc[r]);
    chk.expect(took[r] < 5, "rank %d was released after %.1f s", r, took[r]);
    chk.expect(static_cast<float*>(buf[r])[0] == static_cast<float>(1 << r), "rank %d's buffer unchanged", r);
  }
  set_device(1);
  auto t0 = std::chrono::steady_clock::now();
  chk.expect(ncclAllReduce(buf[1], buf[1], 1, nFloat32, nSum, comms[1], nullptr) == nRemoteError &&
                 seconds_since(t0) < 1,
             "a later call fails at once");
  chk.expect(contains(ncclGetLastError(nullptr), "abort"), "detail: %s", ncclGetLastError(nullptr));
  int async = -1;
  chk.expect(ncclCommGetAsyncError(comms[1], &async) == nSuccess && async == nRemoteError, "async error %d", async);
  chk.expect(ncclCommGetAsyncError(comms[0], &async) == nInvalidArgument, "the aborted handle is gone");
  for (int r = 1; r < 4; ++r) chk.expect(ncclCommAbort(comms[r]) == nSuccess, "abort rank %d too", r);
  set_device(0);
  free_all(buf);
}

void nccl_one_thread_group() {
  Check chk("ncclCommInitAll / ncclCommInitRank x4 in a group, and grouped collectives, all from one thread");
  if (g_devices < 4) {
    chk.skip("needs 4 devices");
    return;
  }
  for (int way = 0; way < 2; ++way) {
    std::vector<void*> comms(4);
    if (way == 0) {
      comms = init_all(4);
    } else {
      ncclUniqueId id;
      ncclGetUniqueId(&id);
      chk.expect(ncclGroupStart() == nSuccess, "group start");
      for (int r = 0; r < 4; ++r) {
        set_device(r);
        chk.expect(ncclCommInitRank(&comms[r], 4, id, r) == nSuccess, "init rank %d in the group", r);
      }
      int rc = ncclGroupEnd();
      chk.expect(rc == nSuccess, "group end of the inits: %d (%s)", rc, ncclGetLastError(nullptr));
      set_device(0);
    }
    std::vector<void*> buf = alloc_ranks(4, 8 * 4);
    std::vector<void*> gat = alloc_ranks(4, 4 * 2 * 4);
    for (int r = 0; r < 4; ++r) {
      float* b = static_cast<float*>(buf[r]);
      for (int i = 0; i < 8; ++i) b[i] = static_cast<float>((r + 1) * (i + 1));
    }
    chk.expect(ncclGroupStart() == nSuccess, "group start");
    for (int r = 0; r < 4; ++r) {
      chk.expect(ncclAllReduce(buf[r], buf[r], 8, nFloat32, nSum, comms[r], nullptr) == nSuccess, "all-reduce %d", r);
      chk.expect(ncclAllGather(buf[r], gat[r], 2, nFloat32, comms[r], nullptr) == nSuccess, "all-gather %d", r);
    }
    int rc = ncclGroupEnd();
    chk.expect(rc == nSuccess, "way %d group end: %d (%s)", way, rc, ncclGetLastError(nullptr));
    for (int r = 0; r < 4; ++r) {
      const float* b = static_cast<const float*>(buf[r]);
      const float* g = static_cast<const float*>(gat[r]);
      bool ok = true;
      for (int i = 0; i < 8; ++i) ok = ok && b[i] == 10.0f * (i + 1);
      // the all-gather was issued after the all-reduce in the group, so it gathers the sums: 10, 20 from every rank
      for (int q = 0; q < 4; ++q) ok = ok && g[2 * q] == 10 && g[2 * q + 1] == 20;
      chk.expect(ok, "way %d rank %d results", way, r);
    }
    for (void* c : comms) ncclCommDestroy(c);
    free_all(buf);
    free_all(gat);
  }
  // a failed call inside a group cancels the group: ncclGroupEnd returns the error and nothing runs
  std::vector<void*> comms = init_all(2);
  std::vector<void*> buf = alloc_ranks(2, 16);
  static_cast<float*>(buf[0])[0] = 1;
  static_cast<float*>(buf[1])[0] = 2;
  ncclGroupStart();
  int a = ncclAllReduce(buf[0], buf[0], 1, nFloat32, nSum, comms[0], nullptr);
  int b = ncclAllReduce(buf[1], buf[1], 100, nFloat32, nSum, comms[1], nullptr);   // past the allocation
  int e = ncclGroupEnd();
  chk.expect(a == nSuccess && b == nInvalidArgument && e == nInvalidArgument, "cancelled group: %d %d %d", a, b, e);
  chk.expect(static_cast<float*>(buf[0])[0] == 1, "nothing of the cancelled group ran");
  ncclGroupStart();
  a = ncclAllReduce(buf[0], buf[0], 1, nFloat32, nSum, comms[0], nullptr);
  b = ncclAllReduce(buf[1], buf[1], 1, nFloat32, nSum, comms[1], nullptr);
  e = ncclGroupEnd();
  chk.expect(a == 0 && b == 0 && e == 0 && static_cast<float*>(buf[0])[0] == 3, "the next group runs: %d", e);
  for (void* c : comms) ncclCommDestroy(c);
  free_all(buf);
}

void nccl_timeouts() {
  Check chk("nccl timeouts: a missing rank -> ncclSystemError naming it (init and collective)");
  if (g_devices < 2) {
    chk.skip("needs 2 devices");
    return;
  }
  const char* saved = std::getenv("NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S");
  std::string restore = saved != nullptr ? saved : "";
  setenv("NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S", "1", 1);
  std::vector<void*> comms = init_all(2);
  std::vector<void*> buf = alloc_ranks(2, 16);
  auto t0 = std::chrono::steady_clock::now();
  int rc = ncclAllReduce(buf[0], buf[0], 1, nFloat32, nSum, comms[0], nullptr);
  double s = seconds_since(t0);
  chk.expect(rc == nSystemError, "rank 0 alone: %d, want ncclSystemError", rc);
  chk.expect(s >= 0.9 && s < 5, "after about the timeout: %.2f s", s);
  chk.expect(contains(ncclGetLastError(nullptr), "rank(s) 1"), "names the missing rank: %s",
             ncclGetLastError(nullptr));
  int async = -1;
  ncclCommGetAsyncError(comms[1], &async);
  chk.expect(async == nSystemError, "the communicator is broken: async %d", async);
  set_device(1);
  t0 = std::chrono::steady_clock::now();
  rc = ncclAllReduce(buf[1], buf[1], 1, nFloat32, nSum, comms[1], nullptr);
  chk.expect(rc == nSystemError && seconds_since(t0) < 0.5, "the late rank fails at once: %d", rc);
  set_device(0);
  for (void* c : comms) ncclCommDestroy(c);

  ncclUniqueId id;
  ncclGetUniqueId(&id);
  void* comm = reinterpret_cast<void*>(0x1);
  t0 = std::chrono::steady_clock::now();
  rc = ncclCommInitRank(&comm, 2, id, 0);
  s = seconds_since(t0);
  chk.expect(rc == nSystemError && s >= 0.9 && s < 5, "init alone: %d after %.2f s", rc, s);
  chk.expect(contains(ncclGetLastError(nullptr), "rank(s) 1"), "names the missing rank: %s",
             ncclGetLastError(nullptr));
  set_device(1);
  t0 = std::chrono::steady_clock::now();
  rc = ncclCommInitRank(&comm, 2, id, 1);
  chk.expect(rc == nRemoteError && seconds_since(t0) < 0.5, "a late joiner fails at once: %d", rc);
  set_device(0);
  if (restore.empty()) unsetenv("NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S");
  else setenv("NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S", restore.c_str(), 1);
  free_all(buf);
}

void nccl_fault() {
  Check chk("nccl fault switch: the failing rank gets ncclSystemError, its peers ncclRemoteError");
  if (g_devices < 2) {
    chk.skip("needs 2 devices");
    return;
  }
  std::vector<void*> comms = init_all(2);
  std::vector<void*> buf = alloc_ranks(2, 16);
  nemotronEmuSetFaultRank(1);
  nemotronEmuInjectFault("nccl", 1, 1);   // rank 1's second collective fails
  std::vector<int> first(2, -1), second(2, -1);
  std::vector<double> took(2, 0);
  on_ranks(2, [&](int r) {
    static_cast<float*>(buf[r])[0] = 1;
    first[r] = ncclAllReduce(buf[r], buf[r], 1, nFloat32, nSum, comms[r], nullptr);
    auto t0 = std::chrono::steady_clock::now();
    second[r] = ncclAllReduce(buf[r], buf[r], 1, nFloat32, nSum, comms[r], nullptr);
    took[r] = seconds_since(t0);
  });
  nemotronEmuSetFaultRank(-1);
  chk.expect(first[0] == 0 && first[1] == 0 && static_cast<float*>(buf[0])[0] == 2, "the first all-reduce runs");
  chk.expect(second[1] == nSystemError, "rank 1: %d, want ncclSystemError", second[1]);
  chk.expect(second[0] == nRemoteError && took[0] < 5, "rank 0: %d after %.1f s, want ncclRemoteError at once",
             second[0], took[0]);
  for (void* c : comms) ncclCommDestroy(c);
  free_all(buf);
}

void nccl_bad_buffers() {
  Check chk("nccl buffer checks: extents, device, NULL, overlap, datatype; the peers are released");
  if (g_devices < 2) {
    chk.skip("needs 2 devices");
    return;
  }
  std::vector<void*> comms = init_all(2);
  std::vector<void*> buf = alloc_ranks(2, 64);
  std::vector<int> rc(2, -1);
  std::vector<std::string> detail(2);
  auto t0 = std::chrono::steady_clock::now();
  on_ranks(2, [&](int r) {
    rc[r] = ncclAllReduce(buf[r], buf[r], r == 1 ? 17 : 16, nFloat32, nSum, comms[r], nullptr);   // 68 > 64 bytes
    detail[r] = ncclGetLastError(nullptr);
  });
  chk.expect(rc[1] == nInvalidArgument && contains(detail[1].c_str(), "sendbuff"), "rank 1 past its buffer: %d %s",
             rc[1], detail[1].c_str());
  chk.expect(rc[0] == nRemoteError && contains(detail[0].c_str(), "rank 1"), "rank 0 released: %d %s", rc[0],
             detail[0].c_str());
  chk.expect(seconds_since(t0) < 5, "without waiting for the timeout");
  set_device(0);
  // rank 0 alone from here: each failed call fails at once (it never waits for rank 1)
  auto solo = [&](const void* s, void* r, size_t n, int type) {
    return ncclAllReduce(s, r, n, type, nSum, comms[0], nullptr);
  };
  std::vector<float> host(4);
  chk.expect(solo(host.data(), buf[0], 4, nFloat32) == nInvalidArgument, "host send buffer");
  chk.expect(solo(buf[1], buf[0], 4, nFloat32) == nInvalidArgument &&
                 contains(ncclGetLastError(nullptr), "device 1"),
             "send buffer on the other rank's device: %s", ncclGetLastError(nullptr));
  chk.expect(solo(nullptr, buf[0], 4, nFloat32) == nInvalidArgument, "NULL send");
  chk.expect(solo(buf[0], buf[0], 4, 12) == nInvalidArgument, "datatype 12");
  chk.expect(ncclAllReduce(buf[0], buf[0], 4, nFloat32, 5, comms[0], nullptr) == nInvalidArgument, "op 5");
  chk.expect(solo(buf[0], static_cast<char*>(buf[0]) + 4, 4, nFloat32) == nInvalidArgument, "partial overlap");
  chk.expect(ncclAllGather(buf[0], static_cast<char*>(buf[0]) + 4, 4, nFloat32, comms[0], nullptr) ==
                 nInvalidArgument,
             "all-gather: recv 2 x 16 bytes from +4 runs past the 64-byte buffer");
  for (void* c : comms) ncclCommDestroy(c);
  free_all(buf);
}

void nccl_init_errors() {
  Check chk("nccl init errors: duplicate rank or device fail every joiner at once; destroyed peers release waiters");
  if (g_devices < 2) {
    chk.skip("needs 2 devices");
    return;
  }
  for (int dup_device = 0; dup_device < 2; ++dup_device) {
    ncclUniqueId id;
    ncclGetUniqueId(&id);
    std::vector<int> rc(2, -1);
    auto t0 = std::chrono::steady_clock::now();
    std::thread first([&] {
      set_device(0);
      void* c = nullptr;
      rc[0] = ncclCommInitRank(&c, 3, id, 0);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::thread second([&] {
      set_device(dup_device ? 0 : 1);
      void* c = nullptr;
      rc[1] = ncclCommInitRank(&c, 3, id, dup_device ? 1 : 0);
    });
    first.join();
    second.join();
    chk.expect(rc[1] == nInvalidUsage, "%s: the second joiner gets ncclInvalidUsage (%d)",
               dup_device ? "same device" : "same rank", rc[1]);
    chk.expect(rc[0] != nSuccess && seconds_since(t0) < 5, "the waiting joiner is released with an error (%d)", rc[0]);
  }
  std::vector<void*> comms(2);
  int devs[2] = {0, 0};
  chk.expect(ncclCommInitAll(comms.data(), 2, devs) == nInvalidUsage, "ncclCommInitAll with a duplicate device");
  int bad[1] = {1000};
  chk.expect(ncclCommInitAll(comms.data(), 1, bad) == nInvalidArgument, "ncclCommInitAll with device 1000");
  // a rank destroyed while its peer waits in a collective
  comms = init_all(2);
  std::vector<void*> buf = alloc_ranks(2, 16);
  int rc = -1;
  std::string detail;
  auto t0 = std::chrono::steady_clock::now();
  std::thread waiter([&] {
    set_device(1);
    rc = ncclAllReduce(buf[1], buf[1], 1, nFloat32, nSum, comms[1], nullptr);
    detail = ncclGetLastError(nullptr);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  chk.expect(ncclCommDestroy(comms[0]) == nSuccess, "destroy rank 0");
  waiter.join();
  chk.expect(rc == nRemoteError && contains(detail.c_str(), "destroyed") && seconds_since(t0) < 5,
             "the waiting peer is released: %d %s", rc, detail.c_str());
  ncclCommDestroy(comms[1]);
  free_all(buf);
}

void nccl_capture() {
  Check chk("nccl collectives captured per rank and replayed by each rank's cuGraphLaunch; grouped capture refused");
  if (g_devices < 2) {
    chk.skip("needs 2 devices");
    return;
  }
  std::vector<void*> comms = init_all(2);
  std::vector<void*> buf = alloc_ranks(2, 16);
  std::vector<int> ok(2, 0);
  on_ranks(2, [&](int r) {
    float* b = static_cast<float*>(buf[r]);
    b[0] = static_cast<float>(r + 1);   // 1 and 2
    CUstream s;
    cuStreamCreate(&s, 0);
    cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_RELAXED);
    int rc = ncclAllReduce(b, b, 1, nFloat32, nSum, comms[r], s);
    CUgraph graph;
    CUgraphExec exec;
    cuStreamEndCapture(s, &graph);
    bool captured = rc == nSuccess && b[0] == static_cast<float>(r + 1);
    cuGraphInstantiateWithFlags(&exec, graph, 0);
    bool first = cuGraphLaunch(exec, s) == CUDA_SUCCESS && b[0] == 3;
    bool second = cuGraphLaunch(exec, s) == CUDA_SUCCESS && b[0] == 6;
    ok[r] = captured && first && second;
    cuGraphExecDestroy(exec);
    cuGraphDestroy(graph);
    cuStreamDestroy_v2(s);
  });
  chk.expect(ok[0] && ok[1], "captured, then 1+2 = 3, then 3+3 = 6 on both ranks (%d %d)", ok[0], ok[1]);
  CUstream s;
  cuStreamCreate(&s, 0);
  cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_RELAXED);
  ncclGroupStart();
  ncclAllReduce(buf[0], buf[0], 1, nFloat32, nSum, comms[0], s);
  ncclAllReduce(buf[1], buf[1], 1, nFloat32, nSum, comms[1], nullptr);
  int rc = ncclGroupEnd();
  CUgraph graph;
  cuStreamEndCapture(s, &graph);
  chk.expect(rc == nInvalidUsage && contains(ncclGetLastError(nullptr), "captur"), "grouped capture: %d %s", rc,
             ncclGetLastError(nullptr));
  cuGraphDestroy(graph);
  cuStreamDestroy_v2(s);
  for (void* c : comms) ncclCommDestroy(c);
  free_all(buf);
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // a bounded default wait, so that a bug shows as a failure rather than a one-minute stall per check
  setenv("NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S", "20", 0);
  const char* wd = std::getenv("NEMOTRON_CHECKS_WATCHDOG_S");
  const double watchdog_s = wd != nullptr ? std::atof(wd) : 600;
  std::thread([watchdog_s] {
    std::this_thread::sleep_for(std::chrono::duration<double>(watchdog_s));
    std::printf("FAIL watchdog: the checks did not finish in %.0f s (a hang)\n", watchdog_s);
    std::fflush(stdout);
    std::_Exit(2);
  }).detach();

  if (cuInit(0) != CUDA_SUCCESS || cuDeviceGetCount(&g_devices) != CUDA_SUCCESS || g_devices < 1) {
    std::printf("FAIL setup: cuInit / cuDeviceGetCount (no emulated device)\n");
    return 1;
  }
  for (int d = 0; d < g_devices; ++d) {
    CUdevice dev;
    CUcontext ctx;
    if (cuDeviceGet(&dev, d) != CUDA_SUCCESS || cuDevicePrimaryCtxRetain(&ctx, dev) != CUDA_SUCCESS) {
      std::printf("FAIL setup: primary context of device %d\n", d);
      return 1;
    }
    g_ctx.push_back(ctx);
  }
  set_device(0);
  std::printf("INFO %d emulated devices\n", g_devices);

  cublas_handles();
  cublas_rounding_by_hand();
  cublas_errors();
  cublas_capture();
  cublas_gemm_sweep();
  cublas_speed();

  nccl_basics();
  for (int n : {2, 4, 8}) nccl_threads(n);
  nccl_mismatch();
  nccl_abort();
  nccl_one_thread_group();
  nccl_timeouts();
  nccl_fault();
  nccl_bad_buffers();
  nccl_init_errors();
  nccl_capture();

  std::printf("%s: %d check(s) failed\n", g_failed_checks == 0 ? "ALL PASSED" : "FAILED", g_failed_checks);
  return g_failed_checks == 0 ? 0 : 1;
}
