// Elementwise ops of the forward pass.
//
//   silu_mul_bf16 / silu_mul_f32(out, out_stride, gate, up, in_stride, width)      (Backend.siluMul)
//     out[r, i] = silu(gate[r, i]) * up[r, i] for i < width, silu(g) = g / (1 + e^-g)
//     gate, up   row r at gate + r * in_stride, up + r * in_stride
//     out        row r at out + r * out_stride; may alias gate (the Backend's in-place GATE = silu(GATE)·UP:
//                out = gate, out_stride = in_stride = width)
//     A fused gate_up projection ([rows][2·width], gate first) is the same call with up = gate + width and
//     in_stride = 2·width, which is why the strides are arguments.
//   Launch: grid = (ceil(width / (threads * P)), rows), block = (threads) a multiple of 32 (256); P = 8 for
//   bf16, 4 for f32 (the elements in 16 bytes: each thread handles one 16-byte pack).
//
//   add_bf16 / add_f32(acc, delta, n)                                              (Backend.add)
//     acc[i] += delta[i] for i < n (n = rows * hidden; both contiguous)
//   Launch: grid = (ceil(n / (threads * P))), block = (threads) a multiple of 32 (256); P as above.
//
// Rounding: silu is evaluated in FP32 with expf (<= 2 ulp), not __expf, whose error grows with |g|; for
// g < -88.7, e^-g overflows to +inf and g / inf = -0, the correct limit, as in the CPU backend's Silu. On
// BF16 the activation is rounded to BF16 before the multiply, as HF's act_fn(gate_proj(x)) * up_proj(x) on a
// BF16 model does; on FP32 nothing is rounded in between. The CPU Silu uses its own exp (VectorExp), so
// silu_mul_f32 agrees with it to a few ulp rather than bit for bit.
#include "common.cuh"

namespace nemotron::elementwise {

__device__ __forceinline__ float silu(float g) { return g / (1.0f + expf(-g)); }

template <typename T>
__device__ __forceinline__ T silu_mul_one(T g, T u) {
  return from_float<T>(to_float(from_float<T>(silu(to_float(g)))) * to_float(u));
}

template <typename T>
__device__ __forceinline__ void silu_mul(T* out, int out_stride, const T* gate, const T* up, int in_stride,
                                         int width) {
  const std::size_t r = blockIdx.y;
  T* o = out + r * out_stride;
  const T* g = gate + r * in_stride;
  const T* u = up + r * in_stride;
  constexpr int kPack = Pack<T>::kSize;
  // Packs need every row start aligned: width and both strides multiples of the pack, base pointers aligned.
  const bool packed = width % kPack == 0 && out_stride % kPack == 0 && in_stride % kPack == 0 && is_aligned16(o) &&
                      is_aligned16(g) && is_aligned16(u);
  if (packed) {
    const int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= width / kPack) return;
    const Pack<T> gv = reinterpret_cast<const Pack<T>*>(g)[p];
    const Pack<T> uv = reinterpret_cast<const Pack<T>*>(u)[p];
    Pack<T> ov;
#pragma unroll
    for (int j = 0; j < kPack; ++j) ov.v[j] = silu_mul_one(gv.v[j], uv.v[j]);
    reinterpret_cast<Pack<T>*>(o)[p] = ov;
  } else {
    // Same grid: each thread covers the kPack elements its pack would have.
    const int base = (blockIdx.x * blockDim.x + threadIdx.x) * kPack;
    for (int i = base; i < base + kPack && i < width; ++i) o[i] = silu_mul_one(g[i], u[i]);
  }
}

template <typename T>
__device__ __forceinline__ void add(T* acc, const T* __restrict__ delta, long long n) {
  constexpr int kPack = Pack<T>::kSize;
  const long long base = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) * kPack;
  if (base >= n) return;
  if (base + kPack <= n && is_aligned16(acc) && is_aligned16(delta)) {
    Pack<T> a = reinterpret_cast<Pack<T>*>(acc)[base / kPack];
    const Pack<T> d = reinterpret_cast<const Pack<T>*>(delta)[base / kPack];
#pragma unroll
    for (int j = 0; j < kPack; ++j) a.v[j] = from_float<T>(to_float(a.v[j]) + to_float(d.v[j]));
    reinterpret_cast<Pack<T>*>(acc)[base / kPack] = a;
  } else {
    for (long long i = base; i < base + kPack && i < n; ++i) acc[i] = from_float<T>(to_float(acc[i]) + to_float(delta[i]));
  }
}

}  // namespace nemotron::elementwise

extern "C" __global__ void __launch_bounds__(1024)
silu_mul_bf16(__nv_bfloat16* out, int out_stride, const __nv_bfloat16* gate, const __nv_bfloat16* up, int in_stride,
              int width) {
  nemotron::elementwise::silu_mul(out, out_stride, gate, up, in_stride, width);
}

extern "C" __global__ void __launch_bounds__(1024)
silu_mul_f32(float* out, int out_stride, const float* gate, const float* up, int in_stride, int width) {
  nemotron::elementwise::silu_mul(out, out_stride, gate, up, in_stride, width);
}

extern "C" __global__ void __launch_bounds__(1024)
add_bf16(__nv_bfloat16* acc, const __nv_bfloat16* __restrict__ delta, long long n) {
  nemotron::elementwise::add(acc, delta, n);
}

extern "C" __global__ void __launch_bounds__(1024)
add_f32(float* acc, const float* __restrict__ delta, long long n) {
  nemotron::elementwise::add(acc, delta, n);
}
