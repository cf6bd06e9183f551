// Collectives of the loopback communicator (LoopbackGroup): several tensor-parallel ranks on ONE GPU, for tests of
// the tensor-parallel CUDA path where only one GPU is available. Each rank owns its own device buffers in the one
// shared context; one launch reads every rank's buffer through a table of device addresses.
//
//   loopback_all_reduce_f32 / loopback_all_reduce_bf16(bufs, ranks, n)                (DeviceCommunicator.allReduceSum)
//     bufs       device array of `ranks` device addresses (unsigned long long), rank order
//     for i < n: s = bufs[0][i] + bufs[1][i] + ... + bufs[ranks-1][i], summed in FP32 in rank order, then
//                bufs[r][i] = s (rounded to nearest even for bf16) for every r
//     In place and race-free: one thread reads and writes element i of every rank, and no other thread touches i.
//     Every rank ends with the same bits, as with InProcessGroup. BF16 is rounded once, after the FP32 sum;
//     NCCL's ring rounds after each hop, so loopback and NCCL may differ in the last BF16 bit.
//   Launch: grid = (ceil(n / threads)), block = (threads) (256).
//
//   loopback_all_gather_u16(sends, recvs, ranks, n16)                                  (DeviceCommunicator.allGather)
//     sends, recvs  device arrays of `ranks` device addresses each, rank order
//     recvs[q][r * n16 + i] = sends[r][i] for i < n16, every source rank r and destination rank q
//     Moved as 16-bit units (n16 = count * element bytes / 2), which covers f32 and bf16. In place
//     (sends[r] == recvs[r] + r * n16) copies a value onto itself, which is harmless.
//   Launch: grid = (ceil(n16 / threads), ranks (source r), ranks (destination q)), block = (threads) (256).
#include "common.cuh"

namespace nemotron::loopback {

template <typename T>
__device__ __forceinline__ void all_reduce(const unsigned long long* __restrict__ bufs, int ranks, long long n) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float s = to_float(reinterpret_cast<const T*>(bufs[0])[i]);
  for (int r = 1; r < ranks; ++r) s += to_float(reinterpret_cast<const T*>(bufs[r])[i]);
  const T v = from_float<T>(s);
  for (int r = 0; r < ranks; ++r) reinterpret_cast<T*>(bufs[r])[i] = v;
}

}  // namespace nemotron::loopback

extern "C" __global__ void __launch_bounds__(1024)
loopback_all_reduce_f32(const unsigned long long* __restrict__ bufs, int ranks, long long n) {
  nemotron::loopback::all_reduce<float>(bufs, ranks, n);
}

extern "C" __global__ void __launch_bounds__(1024)
loopback_all_reduce_bf16(const unsigned long long* __restrict__ bufs, int ranks, long long n) {
  nemotron::loopback::all_reduce<__nv_bfloat16>(bufs, ranks, n);
}

extern "C" __global__ void __launch_bounds__(1024)
loopback_all_gather_u16(const unsigned long long* __restrict__ sends, const unsigned long long* __restrict__ recvs,
                        int ranks, long long n16) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int r = static_cast<int>(blockIdx.y);
  const int q = static_cast<int>(blockIdx.z);
  if (i >= n16 || r >= ranks || q >= ranks) return;
  const unsigned short* src = reinterpret_cast<const unsigned short*>(sends[r]);
  unsigned short* dst = reinterpret_cast<unsigned short*>(recvs[q]);
  dst[static_cast<long long>(r) * n16 + i] = src[i];
}
