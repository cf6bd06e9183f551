// RMSNorm over rows (Llama / nemotron-nas "input_layernorm" and "post_attention_layernorm"):
//   out[r, i] = x[r, i] / sqrt(mean_i(x[r, i]^2) + eps) * weight[i]
//
// Launch: grid = (rows), block = (threads) with threads a multiple of 32 and <= 1024; no dynamic
// shared memory. One block per row because a row (hidden = 16384 for Ultra) is far too wide for a
// warp, and rows are independent. All tensors are row-major and contiguous: row r starts at r * hidden.
//
// Rounding follows Hugging Face's LlamaRMSNorm on a BF16 model, so GPU logits can be compared with
// transformers' outputs: the sum of squares is accumulated in FP32, x * inv_rms is rounded to the
// activation type, and then multiplied by the weight and rounded again. For FP32 both roundings are
// no-ops. inv_rms uses rsqrtf (<= 2 ulp), well inside BF16 precision.
//
// Kernel names match the Java kernels (one parity suite covers both):
//   rmsnorm_bf16 / rmsnorm_f32(out, x, weight, hidden, eps)
//   fused_add_rmsnorm_bf16 / fused_add_rmsnorm_f32(out, residual, x, weight, hidden, eps)
//   rmsnorm_rows_bf16 / rmsnorm_rows_f32(out, x, weight, row_index, hidden, eps)
//     out[b] = rmsnorm(x[row_index[b]]) * weight: the final norm of Backend.logits, applied only to the
//     rows that sample (StepBatch.logitRows) and packed densely for the lm_head GEMM; grid = (logit rows).
#include "common.cuh"

namespace nemotron::rmsnorm {

template <typename T>
__device__ __forceinline__ T scale(T x, T w, float inv_rms) {
  return from_float<T>(to_float(from_float<T>(to_float(x) * inv_rms)) * to_float(w));
}

// The packed path needs every row start aligned: hidden a multiple of the pack size and every
// base pointer 16-byte aligned (cudaMalloc gives 256). Otherwise fall back to element loads.
template <typename T>
__device__ __forceinline__ bool can_pack(int hidden, const T* a, const T* b, const T* c) {
  return hidden % Pack<T>::kSize == 0 && is_aligned16(a) && is_aligned16(b) && is_aligned16(c);
}

// This thread's share of sum(x^2) over one row.
template <typename T>
__device__ __forceinline__ float sum_squares(const T* x, int hidden, bool packed) {
  float acc = 0.0f;
  if (packed) {
    const Pack<T>* xp = reinterpret_cast<const Pack<T>*>(x);
    for (int p = threadIdx.x; p < hidden / Pack<T>::kSize; p += blockDim.x) {
      const Pack<T> xv = xp[p];
#pragma unroll
      for (int j = 0; j < Pack<T>::kSize; ++j) {
        const float f = to_float(xv.v[j]);
        acc += f * f;
      }
    }
  } else {
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
      const float f = to_float(x[i]);
      acc += f * f;
    }
  }
  return acc;
}

// residual <- residual + x (rounded to T, as a BF16 model's "hidden_states = residual + hidden_states"
// is); returns this thread's share of sum(new_residual^2).
template <typename T>
__device__ __forceinline__ float add_and_sum_squares(T* residual, const T* x, int hidden, bool packed) {
  float acc = 0.0f;
  if (packed) {
    Pack<T>* rp = reinterpret_cast<Pack<T>*>(residual);
    const Pack<T>* xp = reinterpret_cast<const Pack<T>*>(x);
    for (int p = threadIdx.x; p < hidden / Pack<T>::kSize; p += blockDim.x) {
      Pack<T> rv = rp[p];
      const Pack<T> xv = xp[p];
#pragma unroll
      for (int j = 0; j < Pack<T>::kSize; ++j) {
        rv.v[j] = from_float<T>(to_float(rv.v[j]) + to_float(xv.v[j]));
        const float f = to_float(rv.v[j]);
        acc += f * f;
      }
      rp[p] = rv;
    }
  } else {
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
      const T r = from_float<T>(to_float(residual[i]) + to_float(x[i]));
      residual[i] = r;
      const float f = to_float(r);
      acc += f * f;
    }
  }
  return acc;
}

// The second pass re-reads the row instead of keeping it in registers or shared memory: a 32 KiB
// row was just read by this block and is still in L1/L2, and this keeps any hidden size legal.
template <typename T>
__device__ __forceinline__ void normalize(T* out, const T* x, const T* __restrict__ weight, int hidden,
                                          float inv_rms, bool packed) {
  if (packed) {
    Pack<T>* op = reinterpret_cast<Pack<T>*>(out);
    const Pack<T>* xp = reinterpret_cast<const Pack<T>*>(x);
    const Pack<T>* wp = reinterpret_cast<const Pack<T>*>(weight);
    for (int p = threadIdx.x; p < hidden / Pack<T>::kSize; p += blockDim.x) {
      const Pack<T> xv = xp[p];
      const Pack<T> wv = wp[p];
      Pack<T> ov;
#pragma unroll
      for (int j = 0; j < Pack<T>::kSize; ++j) ov.v[j] = scale(xv.v[j], wv.v[j], inv_rms);
      op[p] = ov;
    }
  } else {
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) out[i] = scale(x[i], weight[i], inv_rms);
  }
}

__device__ __forceinline__ float inv_rms_of(float thread_sum_squares, int hidden, float eps) {
  const float sum = block_reduce_sum(thread_sum_squares);
  return rsqrtf(sum / static_cast<float>(hidden) + eps);
}

template <typename T>
__device__ __forceinline__ void rmsnorm_row(T* out, const T* x, const T* __restrict__ weight, int hidden,
                                            float eps) {
  const std::size_t row_offset = static_cast<std::size_t>(blockIdx.x) * static_cast<std::size_t>(hidden);
  out += row_offset;
  x += row_offset;
  const bool packed = can_pack(hidden, out, x, weight);
  const float inv_rms = inv_rms_of(sum_squares(x, hidden, packed), hidden, eps);
  normalize(out, x, weight, hidden, inv_rms, packed);
}

// NOTE: each element of a row is read and written by the same thread (same index stride in both
// passes), and the block reduction's barrier separates the passes. So out may alias x (in-place
// norm), which is why out/x/residual are not __restrict__.
template <typename T>
__device__ __forceinline__ void fused_add_rmsnorm_row(T* out, T* residual, const T* x,
                                                      const T* __restrict__ weight, int hidden, float eps) {
  const std::size_t row_offset = static_cast<std::size_t>(blockIdx.x) * static_cast<std::size_t>(hidden);
  out += row_offset;
  residual += row_offset;
  x += row_offset;
  const bool packed = can_pack(hidden, out, residual, x) && is_aligned16(weight);
  const float inv_rms = inv_rms_of(add_and_sum_squares(residual, x, hidden, packed), hidden, eps);
  normalize(out, residual, weight, hidden, inv_rms, packed);
}

// Gathered rows: block b normalizes x row row_index[b] into out row b.
template <typename T>
__device__ __forceinline__ void rmsnorm_gathered_row(T* out, const T* x, const T* __restrict__ weight,
                                                     const int* __restrict__ row_index, int hidden, float eps) {
  out += static_cast<std::size_t>(blockIdx.x) * static_cast<std::size_t>(hidden);
  x += static_cast<std::size_t>(row_index[blockIdx.x]) * static_cast<std::size_t>(hidden);
  const bool packed = can_pack(hidden, out, x, weight);
  const float inv_rms = inv_rms_of(sum_squares(x, hidden, packed), hidden, eps);
  normalize(out, x, weight, hidden, inv_rms, packed);
}

}  // namespace nemotron::rmsnorm

extern "C" __global__ void __launch_bounds__(1024)
rmsnorm_bf16(__nv_bfloat16* out, const __nv_bfloat16* x, const __nv_bfloat16* __restrict__ weight, int hidden,
             float eps) {
  nemotron::rmsnorm::rmsnorm_row(out, x, weight, hidden, eps);
}

extern "C" __global__ void __launch_bounds__(1024)
rmsnorm_f32(float* out, const float* x, const float* __restrict__ weight, int hidden, float eps) {
  nemotron::rmsnorm::rmsnorm_row(out, x, weight, hidden, eps);
}

// residual <- residual + x; out <- rmsnorm(residual) * weight. Saves one full read and write of
// the activations per layer boundary compared with a separate add kernel.
extern "C" __global__ void __launch_bounds__(1024)
fused_add_rmsnorm_bf16(__nv_bfloat16* out, __nv_bfloat16* residual, const __nv_bfloat16* x,
                       const __nv_bfloat16* __restrict__ weight, int hidden, float eps) {
  nemotron::rmsnorm::fused_add_rmsnorm_row(out, residual, x, weight, hidden, eps);
}

extern "C" __global__ void __launch_bounds__(1024)
fused_add_rmsnorm_f32(float* out, float* residual, const float* x, const float* __restrict__ weight, int hidden,
                      float eps) {
  nemotron::rmsnorm::fused_add_rmsnorm_row(out, residual, x, weight, hidden, eps);
}

extern "C" __global__ void __launch_bounds__(1024)
rmsnorm_rows_bf16(__nv_bfloat16* out, const __nv_bfloat16* x, const __nv_bfloat16* __restrict__ weight,
                  const int* __restrict__ row_index, int hidden, float eps) {
  nemotron::rmsnorm::rmsnorm_gathered_row(out, x, weight, row_index, hidden, eps);
}

extern "C" __global__ void __launch_bounds__(1024)
rmsnorm_rows_f32(float* out, const float* x, const float* __restrict__ weight, const int* __restrict__ row_index,
                 int hidden, float eps) {
  nemotron::rmsnorm::rmsnorm_gathered_row(out, x, weight, row_index, hidden, eps);
}
