// Random weights written on the device, for benchmarks of real shapes without a checkpoint (a 40 GB tensor
// never exists on the host).
//
//   fill_uniform_bf16(out, n, seed, stream, lo, hi)                        (DeviceWeights.random)
//     out[i] = bf16_rn(fma(hi - lo, u_i, lo)) for i < n, u_i in (0, 1); lo == hi writes the constant lo
//     u_i comes from Philox4x32-10 keyed by seed with counter (i / 8 low, i / 8 high, stream, 0): one call gives
//     128 bits = eight 16-bit uniforms, (bits + 0.5) / 2^16: element 8p + j takes word j / 2 of call p, its low
//     half for even j, its high half for odd j. So the value of element i of stream s is a pure
//     function of (seed, s, i): independent of the launch shape, and distinct tensors (distinct s) get
//     independent numbers. 16 bits are plenty for a BF16 (8-bit significand) random weight.
//   Launch: any grid, block = (threads) a multiple of 32 (256); a grid-stride loop over packs of 8 elements.
//   Each thread stores 16 bytes per pack when out is 16-byte aligned (cuMemAlloc's 256-byte alignment): the fill
//   should be bounded by write bandwidth (tens of ms for the benchmark's 61 GB; not measured yet), where a host
//   upload of the same bytes would take tens of seconds over PCIe.
#include "common.cuh"
#include "philox.cuh"

namespace nemotron::fill {

__device__ __forceinline__ float uniform16(uint32_t bits) { return (static_cast<float>(bits & 0xffffu) + 0.5f) * 0x1.0p-16f; }

__device__ __forceinline__ void fill_uniform(__nv_bfloat16* out, unsigned long long n, unsigned long long seed,
                                             unsigned int stream, float lo, float hi) {
  const unsigned long long packs = (n + 7) / 8;
  const bool aligned = is_aligned16(out);
  const float span = hi - lo;
  for (unsigned long long p = blockIdx.x * static_cast<unsigned long long>(blockDim.x) + threadIdx.x; p < packs;
       p += static_cast<unsigned long long>(gridDim.x) * blockDim.x) {
    const philox::U32x4 r = philox::philox4x32_10(
        philox::U32x4{{static_cast<uint32_t>(p), static_cast<uint32_t>(p >> 32), stream, 0u}},
        static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    Pack<__nv_bfloat16> v;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const uint32_t word = r.v[j / 2];
      // one explicit fma, so the value is defined (a host twin: Math.fma) whatever nvcc's contraction
      v.v[j] = __float2bfloat16_rn(__fmaf_rn(span, uniform16(j % 2 == 0 ? word : word >> 16), lo));
    }
    const unsigned long long base = p * 8;
    if (aligned && base + 8 <= n) {
      reinterpret_cast<Pack<__nv_bfloat16>*>(out)[p] = v;
    } else {
      for (int j = 0; j < 8 && base + j < n; ++j) out[base + j] = v.v[j];
    }
  }
}

}  // namespace nemotron::fill

extern "C" __global__ void __launch_bounds__(1024)
fill_uniform_bf16(__nv_bfloat16* out, unsigned long long n, unsigned long long seed, unsigned int stream, float lo,
                  float hi) {
  nemotron::fill::fill_uniform(out, n, seed, stream, lo, hi);
}
