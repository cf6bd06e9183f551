// Force-included (g++ -include) ahead of the unchanged kernel sources when they are built for the host emulator.
// It maps CUDA's keywords and built-ins onto the emulator's runtime (runtime.cpp, inside libcuda.so.1):
//   - every CUDA thread is a fiber; threadIdx / blockIdx / blockDim / gridDim read the RUNNING fiber's context
//     (a per-OS-thread pointer that the scheduler moves at every fiber switch), never a value fixed per OS thread;
//   - __shared__ is `static thread_local`: blocks run one at a time on an OS thread, so that is one instance per running
//     block, shared by all of its fibers (crt/host_defines.h would otherwise define it as nothing outside nvcc, and each
//     CUDA thread would silently get its own copy; EmuChecks' shared-memory kernel catches that);
//   - __syncthreads, __syncwarp and the warp exchanges are scheduler calls carrying their source location, so a barrier
//     that cannot complete is reported naming the kernel, block, thread and the barrier's file:line;
//   - cuda_bf16.h's host path supplies the bf16 arithmetic; its __CUDACC__-only overloads (shuffles, atomics, __ldg)
//     are provided here, generically over trivially copyable types of at most 8 bytes.
// The keywords must be defined before any CUDA header: host_defines.h keeps a keyword that is already defined.
#pragma once

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __shared__ static thread_local
#define __constant__ static
#define __launch_bounds__(...)
#define __grid_constant__

#include <algorithm>
#include <atomic>
#include <bit>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <math.h>
#include <source_location>
#include <type_traits>
#include <utility>

#include <cuda_bf16.h>

#include "emu_runtime.h"

// The built-in variables: lvalues of the running fiber's context.
#define threadIdx (::nemotronEmuSelf()->thread_idx)
#define blockIdx (::nemotronEmuSelf()->block_idx)
#define blockDim (::nemotronEmuSelf()->block_dim)
#define gridDim (::nemotronEmuSelf()->grid_dim)
constexpr int warpSize = 32;

// Dynamic shared memory: `extern __shared__ T name[]` has no host equivalent at block scope, so kernel sources that
// need it write NEMOTRON_EXTERN_SHARED(T, name) (common.cuh maps it to the extern declaration under nvcc). The
// emulator poisons the buffer (0xFF bytes: NaN floats, -1 ints) before every block.
#define NEMOTRON_EXTERN_SHARED(T, name) T* name = reinterpret_cast<T*>(::nemotronEmuDynamicShared())

// ---- barriers and warp exchanges -------------------------------------------------------------------------------

inline void __syncthreads(std::source_location at = std::source_location::current()) {
  nemotronEmuSyncThreads(at.file_name(), at.line());
}

inline void __syncwarp(unsigned mask = 0xffffffffu, std::source_location at = std::source_location::current()) {
  nemotronEmuWarpOp(NEMOTRON_EMU_SYNCWARP, mask, 0, 0, 32, at.file_name(), at.line());
}

namespace nemotron_emu {

template <typename T>
inline std::uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "warp exchanges move at most 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}

template <typename T>
inline T from_bits(std::uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

template <typename T>
inline T exchange(int kind, unsigned mask, T v, int arg, int width, const std::source_location& at) {
  return from_bits<T>(nemotronEmuWarpOp(kind, mask, to_bits(v), arg, width, at.file_name(), at.line()));
}

}  // namespace nemotron_emu

template <typename T>
inline T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32,
                     std::source_location at = std::source_location::current()) {
  return nemotron_emu::exchange(NEMOTRON_EMU_SHFL, mask, v, src_lane, width, at);
}

template <typename T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32,
                         std::source_location at = std::source_location::current()) {
  return nemotron_emu::exchange(NEMOTRON_EMU_SHFL_XOR, mask, v, lane_mask, width, at);
}

template <typename T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32,
                        std::source_location at = std::source_location::current()) {
  return nemotron_emu::exchange(NEMOTRON_EMU_SHFL_UP, mask, v, static_cast<int>(delta), width, at);
}

template <typename T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32,
                          std::source_location at = std::source_location::current()) {
  return nemotron_emu::exchange(NEMOTRON_EMU_SHFL_DOWN, mask, v, static_cast<int>(delta), width, at);
}

inline unsigned __ballot_sync(unsigned mask, int predicate, std::source_location at = std::source_location::current()) {
  return static_cast<unsigned>(
      nemotronEmuWarpOp(NEMOTRON_EMU_BALLOT, mask, predicate != 0, 0, 32, at.file_name(), at.line()));
}

inline int __any_sync(unsigned mask, int predicate, std::source_location at = std::source_location::current()) {
  return __ballot_sync(mask, predicate, at) != 0;
}

inline int __all_sync(unsigned mask, int predicate, std::source_location at = std::source_location::current()) {
  return static_cast<int>(
      nemotronEmuWarpOp(NEMOTRON_EMU_ALL, mask, predicate != 0, 0, 32, at.file_name(), at.line()));
}

template <typename T>
inline unsigned __match_any_sync(unsigned mask, T v, std::source_location at = std::source_location::current()) {
  return static_cast<unsigned>(
      nemotronEmuWarpOp(NEMOTRON_EMU_MATCH_ANY, mask, nemotron_emu::to_bits(v), 0, 32, at.file_name(), at.line()));
}

// ---- atomics: std::atomic_ref, so they stay atomic if blocks ever run on several OS threads ---------------------

template <typename T>
inline T atomicAdd(T* address, T v) {
  return std::atomic_ref<T>(*address).fetch_add(v);
}

template <typename T>
inline T atomicSub(T* address, T v) {
  return std::atomic_ref<T>(*address).fetch_sub(v);
}

template <typename T>
inline T atomicExch(T* address, T v) {
  return std::atomic_ref<T>(*address).exchange(v);
}

template <typename T>
inline T atomicCAS(T* address, T compare, T v) {
  std::atomic_ref<T>(*address).compare_exchange_strong(compare, v);
  return compare;   // the old value, whether or not it was replaced
}

template <typename T>
inline T atomicMax(T* address, T v) {
  std::atomic_ref<T> a(*address);
  T old = a.load();
  while (old < v && !a.compare_exchange_weak(old, v)) {
  }
  return old;
}

template <typename T>
inline T atomicMin(T* address, T v) {
  std::atomic_ref<T> a(*address);
  T old = a.load();
  while (v < old && !a.compare_exchange_weak(old, v)) {
  }
  return old;
}

// ---- intrinsics (built with -ffp-contract=off, so a * b + c is two roundings, as __fmul_rn then __fadd_rn) --------

template <typename T>
inline T __ldg(const T* p) {
  return *p;
}

inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __int2float_rn(int v) { return static_cast<float>(v); }
inline float __uint2float_rn(unsigned v) { return static_cast<float>(v); }
inline float __fdividef(float a, float b) { return a / b; }
// The device's fast versions are approximations (2 ulp and worse); the host's correctly rounded ones are closer to the
// exact value, so a test tolerance that holds for the device holds here.
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline int __popc(unsigned x) { return std::popcount(x); }
inline int __popcll(unsigned long long x) { return std::popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline unsigned __brev(unsigned x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = ((x >> 8) & 0x00FF00FFu) | ((x & 0x00FF00FFu) << 8);
  return (x >> 16) | (x << 16);
}
[[noreturn]] inline void __trap(std::source_location at = std::source_location::current()) {
  nemotronEmuTrap(at.file_name(), at.line());
}

// CUDA's device min/max: overloads in the global namespace (host code has only std::min/std::max).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }

// ---- registration: each kernel's extern "C" entry point with its parameter types -------------------------------

namespace nemotron_emu {

template <typename... A>
struct Params {
  static constexpr unsigned short sizes[sizeof...(A) + 1] = {static_cast<unsigned short>(sizeof(A))..., 0};
  static constexpr unsigned char pointers[sizeof...(A) + 1] = {static_cast<unsigned char>(std::is_pointer_v<A>)..., 0};
};

// kernelParams[i] points at the value of parameter i (cuLaunchKernel's contract): unpack by the kernel's own types.
template <auto Kernel, typename... A, std::size_t... I>
inline void call(void** params, std::index_sequence<I...>) {
  Kernel(*static_cast<std::remove_cv_t<A>*>(params[I])...);
}

template <auto Kernel, typename... A>
void invoke(void** params) {
  call<Kernel, A...>(params, std::index_sequence_for<A...>{});
}

template <auto Kernel, typename... A>
void register_kernel(void (*)(A...), const char* name, int max_threads) {
  nemotronEmuRegisterKernel(name, &invoke<Kernel, A...>, static_cast<int>(sizeof...(A)), Params<A...>::sizes,
                            Params<A...>::pointers, max_threads);
}

}  // namespace nemotron_emu

#define NEMOTRON_EMU_REGISTER(kernel, max_threads) \
  ::nemotron_emu::register_kernel<&kernel>(&kernel, #kernel, static_cast<int>(max_threads))
