// Helpers shared by every kernel file.
//
// All kernel files are compiled as ONE translation unit (build-fatbin.sh generates a file that
// #includes each *.cu in name order), so that the fatbin holds a single module per architecture
// and the CUDA backend loads everything with one cuModuleLoadData. Two consequences:
//   - everything here must be header-safe (inline / templates / constexpr);
//   - a kernel file's private helpers live in a namespace named after the file, because two
//     anonymous-namespace helpers of the same name in different files would collide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cuda_bf16.h>

namespace nemotron {

constexpr int kWarpSize = 32;
constexpr unsigned kFullWarpMask = 0xffffffffu;

// Element conversions. BF16 -> FP32 is exact; FP32 -> BF16 rounds to nearest even, which is what
// PyTorch's .to(torch.bfloat16) does, so results stay comparable with Hugging Face outputs.
__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// 16 bytes of elements: the widest single load/store instruction (LDG.128), which is what makes a
// memory-bound kernel reach bandwidth. Only usable when the address is 16-byte aligned.
template <typename T>
struct alignas(16) Pack {
  static constexpr int kSize = 16 / static_cast<int>(sizeof(T));
  T v[kSize];
};

template <typename T>
__device__ __forceinline__ bool is_aligned16(const T* p) {
  return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0;
}

// Butterfly reduction: every lane ends with the full warp sum, so no broadcast step is needed.
// Requires all 32 lanes to be active (blockDim.x a multiple of 32).
__device__ __forceinline__ float warp_reduce_sum(float v) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) {
    v += __shfl_xor_sync(kFullWarpMask, v, offset);
  }
  return v;
}

// Sum over the block; every thread gets the result. blockDim.x must be a multiple of 32 (at most
// 1024, so at most 32 warp partials). Every warp reduces the partials itself rather than warp 0
// reducing and broadcasting through shared memory: that saves one barrier.
__device__ __forceinline__ float block_reduce_sum(float v) {
  __shared__ float warp_sums[kWarpSize];
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  const int num_warps = static_cast<int>(blockDim.x) / kWarpSize;

  v = warp_reduce_sum(v);
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  v = warp_reduce_sum(lane < num_warps ? warp_sums[lane] : 0.0f);
  // NOTE: warp_sums is one static array per kernel; without this barrier a second call in the same
  // kernel could overwrite partials that a slower warp has not read yet.
  __syncthreads();
  return v;
}

}  // namespace nemotron
