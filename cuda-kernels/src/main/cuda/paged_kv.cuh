// The GPU layout of the paged K/V pool, shared by kv_cache.cu (writes) and paged_attention.cu (reads).
//
// One device allocation per FULL-attention layer for K and one for V, each
//   [num_blocks][kv_heads][block_size][head_dim]   (BF16, or E4M3 codes for an FP8 cache: element offsets alike)
// so the keys of one kv head inside one block are block_size * head_dim contiguous elements (4 KiB for
// block 16, head_dim 128). The attention kernels read a tile of tokens of ONE kv head at a time (every
// query head of the GQA group shares it), so this layout turns each tile load into a few fully
// coalesced 16-byte loads per thread. vLLM's FlashAttention layout ([block][slot][kv_head][dim]) would
// interleave the other heads into the same cache lines, which this kernel would then fetch for nothing.
//
// The CPU pool (CpuKvPool) stores keys transposed per block for its SIMD loop; the layouts differ but the
// semantics are the same: token at position p of a sequence lives in slot
//   block_table[p / block_size] * block_size + p % block_size
// which is what StepBatch.slotMapping carries for the rows of a step.
#pragma once

#include "common.cuh"

namespace nemotron::paged_kv {

// Element offset of (slot, kv_head, d); block_size = 1 << block_size_log2 (the engine's block sizes are
// powers of two, which CpuKvPool enforces too).
__device__ __forceinline__ std::size_t index(int slot, int kv_head, int d, int kv_heads, int head_dim,
                                             int block_size_log2) {
  const int block = slot >> block_size_log2;
  const int offset = slot & ((1 << block_size_log2) - 1);
  return ((static_cast<std::size_t>(block) * kv_heads + kv_head) * (std::size_t{1} << block_size_log2) + offset) *
             static_cast<std::size_t>(head_dim) + d;
}

// Slot of position `pos` of a sequence through its block table.
__device__ __forceinline__ int slot_of(const int* __restrict__ block_table, int pos, int block_size_log2) {
  return (block_table[pos >> block_size_log2] << block_size_log2) | (pos & ((1 << block_size_log2) - 1));
}

}  // namespace nemotron::paged_kv
