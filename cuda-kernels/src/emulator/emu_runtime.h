// The kernel runtime's C interface (runtime.cpp, exported by libcuda.so.1): what the force-included cuda_emu.h calls
// from inside a kernel, and what kernel libraries call to register their entry points.
#pragma once

#include <cstdint>
#include <vector_types.h>

extern "C" {

// The running CUDA thread's built-in variables.
struct NemotronEmuThread {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};

// Warp operations (nemotronEmuWarpOp's kind).
enum {
  NEMOTRON_EMU_SYNCWARP = 0,
  NEMOTRON_EMU_SHFL = 1,
  NEMOTRON_EMU_SHFL_XOR = 2,
  NEMOTRON_EMU_SHFL_UP = 3,
  NEMOTRON_EMU_SHFL_DOWN = 4,
  NEMOTRON_EMU_BALLOT = 5,
  NEMOTRON_EMU_ALL = 6,
  NEMOTRON_EMU_MATCH_ANY = 7,
};

NemotronEmuThread* nemotronEmuSelf(void);

// Block barrier: returns when every live thread of the block waits at the same __syncthreads.
void nemotronEmuSyncThreads(const char* file, unsigned line);

// A warp-scoped exchange over `mask`: write `value`, warp barrier, compute the result from the lanes' values, warp
// barrier. `arg` is the source lane / lane mask / delta of the shuffles; `width` their segment width.
std::uint64_t nemotronEmuWarpOp(int kind, unsigned mask, std::uint64_t value, int arg, int width, const char* file,
                                unsigned line);

// The block's dynamic shared memory (poisoned with 0xFF bytes before every block), or null when the launch gave none.
void* nemotronEmuDynamicShared(void);

// __trap(): ends the launch with an error naming the kernel, block, thread and source line.
[[noreturn]] void nemotronEmuTrap(const char* file, unsigned line);

// Called by a kernel library's static initializer, once per extern "C" kernel: `invoke` unpacks cuLaunchKernel's
// kernelParams by the kernel's own parameter types (sizes and pointer flags listed for argument checks and graph
// capture); `max_threads` is its __launch_bounds__ (1024 without one).
void nemotronEmuRegisterKernel(const char* name, void (*invoke)(void** params), int num_params,
                               const unsigned short* param_sizes, const unsigned char* param_is_pointer,
                               int max_threads);

}  // extern "C"
