// Between the kernel runtime (runtime.cpp) and the driver (driver.cpp), both inside libcuda.so.1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include <vector_types.h>

namespace nemotron_emu {

// One registered extern "C" kernel.
struct KernelInfo {
  std::string name;
  void (*invoke)(void** params) = nullptr;
  std::vector<unsigned short> param_sizes;
  std::vector<unsigned char> param_is_pointer;
  int max_threads = 1024;   // __launch_bounds__
};

enum class Order { kForward, kReverse, kRandom };

const KernelInfo* find_kernel(const std::string& name);

// Orders threads (and blocks) between barriers for the following launches (tests switch it; the environment sets
// the default).
void set_order(Order order, std::uint64_t seed);

// Runs every block of the grid on the calling OS thread. Empty on success, else the error (deadlock, fault).
std::string launch(const KernelInfo& k, dim3 grid, dim3 block, unsigned dynamic_shared, void** params);

}  // namespace nemotron_emu
