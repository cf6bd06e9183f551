// FP8 linear layers on any GPU (sm_80 included): the dequantizing path of vLLM's ModelOptFp8LinearMethod. A ModelOpt
// FP8 linear computes x8 = saturate_e4m3(x / input_scale) and y = (x8 · W8ᵀ) · (input_scale · weight_scale) with FP32
// accumulation. Both factors are E4M3 values, which BF16 holds exactly, so the CUDA backend quantizes the activation
// rows and dequantizes the weight into BF16 scratch with the two kernels below, then runs its BF16 GEMM (cuBLAS, FP32
// compute: products of E4M3 values are exact in FP32) with alpha = input_scale · weight_scale. The codec is
// fp8_e4m3.cuh's, bit-identical to weights.Fp8E4m3.
//
//   fp8_quantize_bf16(out, x, n, input_scale)                                   (CudaBackend.linear, FP8 weights)
//     out[i] = bf16(decode(encode(float(x[i]) / input_scale))) for i < n: the E4M3 value of the activation, as BF16
//     x, out  n contiguous BF16 elements (rows × in_features; the GEMM reads rows at that stride); may not alias
//     The division is IEEE FP32 (nvcc's default -prec-div=true; the build does not use --use_fast_math), as
//     vLLM's x / scale in FP32; a reciprocal multiply would round differently.
//   Launch: grid = (ceil(n / (threads * 8))), block = (threads) a multiple of 32 (256); a thread converts one pack
//   of 8 elements (16 bytes of BF16) when out and x are 16-byte aligned, else element by element.
//
//   fp8_dequantize_bf16(out, w, n)                                               (CudaBackend.linear, FP8 weights)
//     out[i] = bf16(decode(w[i])) for i < n: exact (every E4M3 value is a BF16 value); NaN codes give NaN
//     w       n E4M3 codes (the checkpoint's F8_E4M3 weight, [out_features][in_features] row-major)
//     out     n BF16 elements: the reusable weight scratch, sized by the model's largest FP8 linear
//   Launch: as fp8_quantize_bf16 (8 codes = 8 bytes in, 16 bytes out per thread, when w is 8- and out 16-byte
//   aligned).
//
// Limits: n < 2^31 · 2048 (the grid's x extent); Ultra's largest FP8 linear per rank is far below that.
// Cost: the dequantizing path reads a weight's bytes once and writes and reads them again as BF16 (5 bytes per
// weight per GEMM instead of 1): it is correct everywhere; FP8 tensor-core GEMMs (cuBLASLt, sm_89+) are the fast path.
#include "fp8_e4m3.cuh"

namespace nemotron::fp8_linear {

constexpr int kPack = 8;

struct alignas(8) CodePack {
  unsigned char c[kPack];
};

__device__ __forceinline__ __nv_bfloat16 quantize_one(__nv_bfloat16 x, float input_scale) {
  return __float2bfloat16_rn(fp8::decode(fp8::encode(__bfloat162float(x) / input_scale)));
}

__device__ __forceinline__ void quantize(__nv_bfloat16* out, const __nv_bfloat16* __restrict__ x, long long n,
                                         float input_scale) {
  const long long base = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) * kPack;
  if (base >= n) return;
  if (base + kPack <= n && is_aligned16(out) && is_aligned16(x)) {
    const Pack<__nv_bfloat16> in = reinterpret_cast<const Pack<__nv_bfloat16>*>(x)[base / kPack];
    Pack<__nv_bfloat16> o;
#pragma unroll
    for (int j = 0; j < kPack; ++j) o.v[j] = quantize_one(in.v[j], input_scale);
    reinterpret_cast<Pack<__nv_bfloat16>*>(out)[base / kPack] = o;
  } else {
    for (long long i = base; i < base + kPack && i < n; ++i) out[i] = quantize_one(x[i], input_scale);
  }
}

__device__ __forceinline__ void dequantize(__nv_bfloat16* out, const unsigned char* __restrict__ w, long long n) {
  const long long base = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) * kPack;
  if (base >= n) return;
  if (base + kPack <= n && is_aligned16(out) && (reinterpret_cast<std::uintptr_t>(w) & 7u) == 0) {
    const CodePack in = reinterpret_cast<const CodePack*>(w)[base / kPack];
    Pack<__nv_bfloat16> o;
#pragma unroll
    for (int j = 0; j < kPack; ++j) o.v[j] = __float2bfloat16_rn(fp8::decode(in.c[j]));
    reinterpret_cast<Pack<__nv_bfloat16>*>(out)[base / kPack] = o;
  } else {
    for (long long i = base; i < base + kPack && i < n; ++i) out[i] = __float2bfloat16_rn(fp8::decode(w[i]));
  }
}

}  // namespace nemotron::fp8_linear

extern "C" __global__ void __launch_bounds__(1024)
fp8_quantize_bf16(__nv_bfloat16* out, const __nv_bfloat16* __restrict__ x, long long n, float input_scale) {
  nemotron::fp8_linear::quantize(out, x, n, input_scale);
}

extern "C" __global__ void __launch_bounds__(1024)
fp8_dequantize_bf16(__nv_bfloat16* out, const unsigned char* __restrict__ w, long long n) {
  nemotron::fp8_linear::dequantize(out, w, n);
}
