// Rotary position embedding (Backend.rope), NeoX / Hugging Face "rotate half": in each head, element i
// pairs with element i + head_dim/2:
//   x[i]        <- x[i] * cos(a) - x[i + half] * sin(a)
//   x[i + half] <- x[i + half] * cos(a) + x[i] * sin(a),      a = inv_freq[i] * position
//
//   rope_bf16 / rope_f32(x, row_stride, positions, inv_freq, heads, head_dim)
//     x          [rows][row_stride], head h of row r at x + r * row_stride + h * head_dim; rotated in place
//     positions  [rows] int32, each in [0, max_position_embeddings) (validated on the host, as Rope.apply does)
//     inv_freq   [head_dim / 2] float: RopeFrequencies.inverse(headDim, theta, scaling) uploaded once. The
//                llama3 scaling (wavelength bands, smooth blend) is applied there, in the CPU backend's own
//                code, so the two backends cannot drift apart on it.
//     head_dim   even, <= 256
//   Launch: grid = (rows), block = (threads) a multiple of 32 (128 is a good size); no dynamic shared memory.
//
// Matching the CPU backend (backend/cpu/Rope.java) exactly:
//   - the angle is the float product inv_freq[i] * (float) position, as HF and Rope.buildPage compute it;
//   - cos and sin are evaluated in double and rounded to float, as (float) Math.cos((double) angle) is;
//     CUDA's double cos/sin are within 2 ulp of double, so the float results agree with Java's except when
//     the exact value lies within 2 double ulps of a float rounding boundary (probability about 2^-28);
//   - the rotation uses __fmul_rn / __fadd_rn / __fsub_rn, which nvcc never contracts into FMAs, so each
//     product and sum is rounded exactly as the Java expression x0 * c - x1 * s is.
// With FP32 activations (rope_f32) the result is therefore bit-identical to Rope.apply. With BF16 storage
// the float result is rounded to BF16 once at the end; HF's BF16 eager path also rounds cos/sin and every
// intermediate product to BF16, which is less accurate, so this kernel sits between the two references.
//
// cos/sin depend on (row, i) but not on the head, so each block computes them once into shared memory
// and all heads of the row (128 for Ultra's Q) reuse them: the double-precision sincos is then 64 calls
// per row rather than 64 per head.
#include "common.cuh"

namespace nemotron::rope {

constexpr int kMaxHalf = 128;  // head_dim <= 256

template <typename T>
__device__ __forceinline__ void rotate_row(T* x, int row_stride, const int* __restrict__ positions,
                                           const float* __restrict__ inv_freq, int heads, int head_dim) {
  __shared__ float cos_s[kMaxHalf];
  __shared__ float sin_s[kMaxHalf];
  const int half = head_dim / 2;
  const int pos = positions[blockIdx.x];
  const float fpos = __int2float_rn(pos);
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    const float angle = __fmul_rn(inv_freq[i], fpos);
    double s, c;
    sincos(static_cast<double>(angle), &s, &c);
    cos_s[i] = static_cast<float>(c);
    sin_s[i] = static_cast<float>(s);
  }
  __syncthreads();
  T* row = x + static_cast<std::size_t>(blockIdx.x) * row_stride;
  for (int j = threadIdx.x; j < heads * half; j += blockDim.x) {
    const int h = j / half;
    const int i = j - h * half;
    T* head = row + h * head_dim;
    const float c = cos_s[i];
    const float s = sin_s[i];
    const float x0 = to_float(head[i]);
    const float x1 = to_float(head[i + half]);
    head[i] = from_float<T>(__fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s)));
    head[i + half] = from_float<T>(__fadd_rn(__fmul_rn(x1, c), __fmul_rn(x0, s)));
  }
}

}  // namespace nemotron::rope

extern "C" __global__ void __launch_bounds__(1024)
rope_bf16(__nv_bfloat16* x, int row_stride, const int* __restrict__ positions, const float* __restrict__ inv_freq,
          int heads, int head_dim) {
  nemotron::rope::rotate_row(x, row_stride, positions, inv_freq, heads, head_dim);
}

extern "C" __global__ void __launch_bounds__(1024)
rope_f32(float* x, int row_stride, const int* __restrict__ positions, const float* __restrict__ inv_freq, int heads,
         int head_dim) {
  nemotron::rope::rotate_row(x, row_stride, positions, inv_freq, heads, head_dim);
}
