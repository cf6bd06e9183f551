// KV write at the slot mapping (the first half of Backend.attention): the K and V rows of one
// FULL-attention layer go into the paged pool (layout in paged_kv.cuh) at the step's slot mapping.
//
//   kv_write_bf16(k_cache, v_cache, k, v, kv_stride, slot_mapping, kv_heads, head_dim, block_size_log2)
//     k_cache, v_cache  this layer's pool, [num_blocks][kv_heads][block_size][head_dim]
//     k, v              [rows][kv_stride], kv head h of row r at k + r * kv_stride + h * head_dim
//     slot_mapping      [rows] int32 (StepBatch.slotMapping); a negative slot is skipped, so a batch padded
//                       to a captured CUDA-graph size can mark its padding rows with -1 (vLLM's convention)
//   Launch: grid = (rows), block = (threads) a multiple of 32 (128).
//
//   kv_write_fp8(k_cache, v_cache, k, v, kv_stride, slot_mapping, kv_heads, head_dim, block_size_log2, k_scale,
//                v_scale)
//     The same for an FP8 cache (--kv-cache-dtype fp8): each element is stored as the E4M3 code of
//     saturate_e4m3(x / scale) (fp8_e4m3.cuh, bit-identical to Fp8E4m3.encode; the division in FP32), with this
//     layer's k_scale for K and v_scale for V; the attention kernels read code · scale. k_cache, v_cache are
//     [num_blocks][kv_heads][block_size][head_dim] bytes; everything else as kv_write_bf16.
//   Launch: as kv_write_bf16. A thread writes 8 codes (8 bytes) of one head when the head is a whole number of them.
//
// The K/V of a step are written before any of its rows attend (as CpuBackend.attention does), so the rows of
// one prefill chunk see each other through the pool, and causality comes from the positions alone.
#include "fp8_e4m3.cuh"
#include "paged_kv.cuh"

namespace nemotron::kv_cache {

template <typename T>
__device__ __forceinline__ void write_row(T* k_cache, T* v_cache, const T* __restrict__ k, const T* __restrict__ v,
                                          int kv_stride, const int* __restrict__ slot_mapping, int kv_heads,
                                          int head_dim, int block_size_log2) {
  const int slot = slot_mapping[blockIdx.x];
  if (slot < 0) return;
  const T* k_row = k + static_cast<std::size_t>(blockIdx.x) * kv_stride;
  const T* v_row = v + static_cast<std::size_t>(blockIdx.x) * kv_stride;
  constexpr int kPack = Pack<T>::kSize;
  // One head's head_dim elements are contiguous on both sides; packs when the head is a whole number of them.
  const bool packed = head_dim % kPack == 0 && kv_stride % kPack == 0 && is_aligned16(k_row) && is_aligned16(v_row) &&
                      is_aligned16(k_cache) && is_aligned16(v_cache);
  if (packed) {
    const int per_head = head_dim / kPack;
    for (int p = threadIdx.x; p < kv_heads * per_head; p += blockDim.x) {
      const int h = p / per_head;
      const int d = (p - h * per_head) * kPack;
      const std::size_t dst = paged_kv::index(slot, h, d, kv_heads, head_dim, block_size_log2);
      *reinterpret_cast<Pack<T>*>(k_cache + dst) = *reinterpret_cast<const Pack<T>*>(k_row + h * head_dim + d);
      *reinterpret_cast<Pack<T>*>(v_cache + dst) = *reinterpret_cast<const Pack<T>*>(v_row + h * head_dim + d);
    }
  } else {
    for (int e = threadIdx.x; e < kv_heads * head_dim; e += blockDim.x) {
      const int h = e / head_dim;
      const int d = e - h * head_dim;
      const std::size_t dst = paged_kv::index(slot, h, d, kv_heads, head_dim, block_size_log2);
      k_cache[dst] = k_row[e];
      v_cache[dst] = v_row[e];
    }
  }
}

struct alignas(8) Codes8 {
  unsigned char c[8];
};

__device__ __forceinline__ void write_row_fp8(unsigned char* k_cache, unsigned char* v_cache,
                                              const __nv_bfloat16* __restrict__ k, const __nv_bfloat16* __restrict__ v,
                                              int kv_stride, const int* __restrict__ slot_mapping, int kv_heads,
                                              int head_dim, int block_size_log2, float k_scale, float v_scale) {
  const int slot = slot_mapping[blockIdx.x];
  if (slot < 0) return;
  const __nv_bfloat16* k_row = k + static_cast<std::size_t>(blockIdx.x) * kv_stride;
  const __nv_bfloat16* v_row = v + static_cast<std::size_t>(blockIdx.x) * kv_stride;
  // 8 codes per thread when a head is whole packs: 16-byte BF16 loads, 8-byte code stores (the pool's rows of one
  // head start at multiples of head_dim bytes, so 8-byte aligned when head_dim is)
  const bool packed = head_dim % 8 == 0 && kv_stride % 8 == 0 && is_aligned16(k_row) && is_aligned16(v_row) &&
                      is_aligned16(k_cache) && is_aligned16(v_cache);
  if (packed) {
    const int per_head = head_dim / 8;
    for (int p = threadIdx.x; p < kv_heads * per_head; p += blockDim.x) {
      const int h = p / per_head;
      const int d = (p - h * per_head) * 8;
      const std::size_t dst = paged_kv::index(slot, h, d, kv_heads, head_dim, block_size_log2);
      const Pack<__nv_bfloat16> kp = *reinterpret_cast<const Pack<__nv_bfloat16>*>(k_row + h * head_dim + d);
      const Pack<__nv_bfloat16> vp = *reinterpret_cast<const Pack<__nv_bfloat16>*>(v_row + h * head_dim + d);
      Codes8 kc, vc;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        kc.c[j] = fp8::encode(__bfloat162float(kp.v[j]) / k_scale);
        vc.c[j] = fp8::encode(__bfloat162float(vp.v[j]) / v_scale);
      }
      *reinterpret_cast<Codes8*>(k_cache + dst) = kc;
      *reinterpret_cast<Codes8*>(v_cache + dst) = vc;
    }
  } else {
    for (int e = threadIdx.x; e < kv_heads * head_dim; e += blockDim.x) {
      const int h = e / head_dim;
      const int d = e - h * head_dim;
      const std::size_t dst = paged_kv::index(slot, h, d, kv_heads, head_dim, block_size_log2);
      k_cache[dst] = fp8::encode(__bfloat162float(k_row[e]) / k_scale);
      v_cache[dst] = fp8::encode(__bfloat162float(v_row[e]) / v_scale);
    }
  }
}

}  // namespace nemotron::kv_cache

extern "C" __global__ void __launch_bounds__(1024)
kv_write_bf16(__nv_bfloat16* k_cache, __nv_bfloat16* v_cache, const __nv_bfloat16* __restrict__ k,
              const __nv_bfloat16* __restrict__ v, int kv_stride, const int* __restrict__ slot_mapping, int kv_heads,
              int head_dim, int block_size_log2) {
  nemotron::kv_cache::write_row(k_cache, v_cache, k, v, kv_stride, slot_mapping, kv_heads, head_dim, block_size_log2);
}

extern "C" __global__ void __launch_bounds__(1024)
kv_write_fp8(unsigned char* k_cache, unsigned char* v_cache, const __nv_bfloat16* __restrict__ k,
             const __nv_bfloat16* __restrict__ v, int kv_stride, const int* __restrict__ slot_mapping, int kv_heads,
             int head_dim, int block_size_log2, float k_scale, float v_scale) {
  nemotron::kv_cache::write_row_fp8(k_cache, v_cache, k, v, kv_stride, slot_mapping, kv_heads, head_dim,
                                    block_size_log2, k_scale, v_scale);
}
