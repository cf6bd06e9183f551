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
// The K/V of a step are written before any of its rows attend (as CpuBackend.attention does), so the rows of
// one prefill chunk see each other through the pool, and causality comes from the positions alone.
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

}  // namespace nemotron::kv_cache

extern "C" __global__ void __launch_bounds__(1024)
kv_write_bf16(__nv_bfloat16* k_cache, __nv_bfloat16* v_cache, const __nv_bfloat16* __restrict__ k,
              const __nv_bfloat16* __restrict__ v, int kv_stride, const int* __restrict__ slot_mapping, int kv_heads,
              int head_dim, int block_size_log2) {
  nemotron::kv_cache::write_row(k_cache, v_cache, k, v, kv_stride, slot_mapping, kv_heads, head_dim, block_size_log2);
}
