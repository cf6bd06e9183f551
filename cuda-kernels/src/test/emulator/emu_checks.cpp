// Checks of the host emulator itself, run by EmulatorChecksTest: test-only kernels (compiled with cuda_emu.h like the
// real ones, registered here) launched through the emulated driver API, under each thread order. Prints one line per
// failed check and "emulator checks passed" at the end.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

// ---- test-only kernels ------------------------------------------------------------------------------------------

// Every thread reads what thread 0 wrote: fails if __shared__ were one copy per CUDA thread.
extern "C" __global__ void emu_shared_is_shared(int* out, int generation) {
  __shared__ int value;
  if (threadIdx.x == 0) value = 1000 + generation;
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = value;
}

// Each thread publishes its id and reads its neighbour's: correct only with the barrier between write and read.
extern "C" __global__ void emu_neighbour_with_barrier(int* out, int generation) {
  __shared__ int slot[1024];
  slot[threadIdx.x] = static_cast<int>(threadIdx.x) + 1000 * generation;
  __syncthreads();
  out[threadIdx.x] = slot[(threadIdx.x + 1) % blockDim.x];
}

extern "C" __global__ void emu_neighbour_missing_barrier(int* out, int generation) {
  __shared__ int slot[1024];
  slot[threadIdx.x] = static_cast<int>(threadIdx.x) + 1000 * generation;
  // BUG on purpose: no __syncthreads() here
  out[threadIdx.x] = slot[(threadIdx.x + 1) % blockDim.x];
}

// Only half the warp reaches a full-mask shuffle: can never complete.
extern "C" __global__ void emu_partial_warp_shuffle(float* out) {
  float v = static_cast<float>(threadIdx.x);
  if (threadIdx.x < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}

// Two halves of the block wait at different __syncthreads.
extern "C" __global__ void emu_divergent_syncthreads(int* out) {
  if (threadIdx.x < 32) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

// Warp operations against hand-computed answers; threadIdx read after barriers (the fiber's own context).
extern "C" __global__ void emu_warp_ops(unsigned* out) {
  const unsigned lane = threadIdx.x % 32;
  float sum = static_cast<float>(lane);
  for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  unsigned up = __shfl_up_sync(0xffffffffu, lane * 10u, 1);
  unsigned down = __shfl_down_sync(0xffffffffu, lane * 10u, 2);
  unsigned bcast = __shfl_sync(0xffffffffu, lane * 3u, 7);
  unsigned ballot = __ballot_sync(0xffffffffu, lane % 3 == 0);
  unsigned match = __match_any_sync(0xffffffffu, lane % 4);
  __syncthreads();
  unsigned* o = out + (blockIdx.x * blockDim.x + threadIdx.x) * 8;
  o[0] = static_cast<unsigned>(sum);
  o[1] = up;
  o[2] = down;
  o[3] = bcast;
  o[4] = ballot;
  o[5] = match;
  o[6] = threadIdx.x;
  o[7] = blockIdx.x;
}

// Reads its dynamic shared memory before writing it: must see the poison (0xFF bytes) in every block.
extern "C" __global__ void emu_dynamic_shared(unsigned* out) {
  NEMOTRON_EXTERN_SHARED(unsigned, dyn);
  out[blockIdx.x * blockDim.x + threadIdx.x] = dyn[threadIdx.x];
  __syncthreads();
  dyn[threadIdx.x] = 7;
}

extern "C" __global__ void emu_add_one(int* x, int n) {
  int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) x[i] += 1;
}

// ---- the driver API, as JCuda calls it -------------------------------------------------------------------------

extern "C" {
int cuInit(unsigned);
int cuDeviceGet(int*, int);
int cuDevicePrimaryCtxRetain(void**, int);
int cuDevicePrimaryCtxReset_v2(int);
int cuCtxSetCurrent(void*);
int cuCtxSynchronize();
int cuMemAlloc_v2(unsigned long long*, size_t);
int cuMemFree_v2(unsigned long long);
int cuMemcpyHtoD_v2(unsigned long long, const void*, size_t);
int cuMemcpyDtoH_v2(void*, unsigned long long, size_t);
int cuModuleLoadData(void**, const void*);
int cuModuleGetFunction(void**, void*, const char*);
int cuFuncSetAttribute(void*, int, int);
int cuLaunchKernel(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*, void**, void**);
int cuStreamCreate(void**, unsigned);
int cuStreamBeginCapture_v2(void*, int);
int cuStreamEndCapture(void*, void**);
int cuGraphInstantiateWithFlags(void**, void*, unsigned long long);
int cuGraphLaunch(void*, void*);
int cuStreamSynchronize(void*);
int cuMemGetInfo_v2(size_t*, size_t*);
int cuMemsetD8_v2(unsigned long long, unsigned char, size_t);
const char* nemotronEmuLastError(void);
void nemotronEmuSetOrder(int order, unsigned long long seed);
int cuCtxEnablePeerAccess(void*, unsigned);
}

static int failures = 0;

static void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL %s\n", what.c_str());
    ++failures;
  }
}

static void expect_ok(int r, const std::string& what) {
  expect(r == 0, what + " returned " + std::to_string(r) + ": " + nemotronEmuLastError());
}

static void expect_error(int r, int code, const std::string& what, const std::string& detail_part) {
  std::string detail = nemotronEmuLastError();
  expect(r == code, what + " returned " + std::to_string(r) + " (want " + std::to_string(code) + "): " + detail);
  expect(detail.find(detail_part) != std::string::npos, what + ": detail \"" + detail + "\" lacks \"" + detail_part + "\"");
}

// A fatbin as nvcc lays it out (magic, version, header size, payload size), with a PTX payload naming the kernels.
static std::vector<unsigned char> fatbin(const std::vector<std::string>& kernels) {
  std::string ptx = ".version 8.0\n.target sm_80\n";
  for (const auto& k : kernels) ptx += ".visible .entry " + k + "(\n.param .u64 p0\n)\n{ ret; }\n";
  std::vector<unsigned char> b(16 + ptx.size());
  unsigned magic = 0xBA55ED50u;
  unsigned short version = 1, header = 16;
  unsigned long long size = ptx.size();
  std::memcpy(b.data(), &magic, 4);
  std::memcpy(b.data() + 4, &version, 2);
  std::memcpy(b.data() + 6, &header, 2);
  std::memcpy(b.data() + 8, &size, 8);
  std::memcpy(b.data() + 16, ptx.data(), ptx.size());
  return b;
}

struct Buffer {
  unsigned long long ptr = 0;
  size_t bytes;
  explicit Buffer(size_t n) : bytes(n) { expect_ok(cuMemAlloc_v2(&ptr, n), "cuMemAlloc"); }
  ~Buffer() { cuMemFree_v2(ptr); }
  template <typename T> std::vector<T> read() {
    std::vector<T> v(bytes / sizeof(T));
    expect_ok(cuMemcpyDtoH_v2(v.data(), ptr, bytes), "cuMemcpyDtoH");
    return v;
  }
};

static int launch(void* f, unsigned grid, unsigned block, unsigned shared, std::vector<void*> params, void* stream = nullptr) {
  return cuLaunchKernel(f, grid, 1, 1, block, 1, 1, shared, stream, params.data(), nullptr);
}

static const char* order_name(int o) { return o == 0 ? "forward" : o == 1 ? "reverse" : "random"; }

int main() {
  NEMOTRON_EMU_REGISTER(emu_shared_is_shared, 1024);
  NEMOTRON_EMU_REGISTER(emu_neighbour_with_barrier, 1024);
  NEMOTRON_EMU_REGISTER(emu_neighbour_missing_barrier, 1024);
  NEMOTRON_EMU_REGISTER(emu_partial_warp_shuffle, 1024);
  NEMOTRON_EMU_REGISTER(emu_divergent_syncthreads, 1024);
  NEMOTRON_EMU_REGISTER(emu_warp_ops, 1024);
  NEMOTRON_EMU_REGISTER(emu_dynamic_shared, 1024);
  NEMOTRON_EMU_REGISTER(emu_add_one, 256);

  expect_ok(cuInit(0), "cuInit");
  int dev;
  void* ctx;
  expect_ok(cuDeviceGet(&dev, 0), "cuDeviceGet");
  expect_ok(cuDevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain");
  expect_ok(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
  auto image = fatbin({"emu_shared_is_shared", "emu_neighbour_with_barrier", "emu_neighbour_missing_barrier",
                       "emu_partial_warp_shuffle", "emu_divergent_syncthreads", "emu_warp_ops", "emu_dynamic_shared",
                       "emu_add_one"});
  void* module;
  expect_ok(cuModuleLoadData(&module, image.data()), "cuModuleLoadData");
  auto fn = [&](const char* name) {
    void* f = nullptr;
    expect_ok(cuModuleGetFunction(&f, module, name), std::string("cuModuleGetFunction ") + name);
    return f;
  };

  int generation = 0;
  for (int order = 0; order < 3; ++order) {
    nemotronEmuSetOrder(order, 42 + order);
    std::string in = std::string(" (") + order_name(order) + ")";
    {  // shared memory is one per block
      Buffer out(3 * 64 * 4);
      unsigned long long p = out.ptr;
      ++generation;
      expect_ok(launch(fn("emu_shared_is_shared"), 3, 64, 0, {&p, &generation}), "emu_shared_is_shared" + in);
      for (int v : out.read<int>()) expect(v == 1000 + generation, "__shared__ is shared by the block's threads" + in);
    }
    {  // the barrier makes it right; without it, the seeded orders make it wrong
      Buffer good(128 * 4), bad(128 * 4);
      unsigned long long pg = good.ptr, pb = bad.ptr;
      ++generation;
      expect_ok(launch(fn("emu_neighbour_with_barrier"), 1, 128, 0, {&pg, &generation}), "with barrier" + in);
      auto g = good.read<int>();
      bool all = true;
      for (int t = 0; t < 128; ++t) all = all && g[t] == (t + 1) % 128 + 1000 * generation;
      expect(all, "neighbour exchange with __syncthreads is exact" + in);
      ++generation;
      expect_ok(launch(fn("emu_neighbour_missing_barrier"), 1, 128, 0, {&pb, &generation}), "missing barrier" + in);
      auto b = bad.read<int>();
      int wrong = 0;
      for (int t = 0; t < 128; ++t) wrong += b[t] != (t + 1) % 128 + 1000 * generation;
      expect(wrong > 0, "a missing __syncthreads gives wrong results" + in);
    }
    {  // warp operations
      Buffer out(2 * 64 * 8 * 4);
      unsigned long long p = out.ptr;
      expect_ok(launch(fn("emu_warp_ops"), 2, 64, 0, {&p}), "emu_warp_ops" + in);
      auto o = out.read<unsigned>();
      bool ok = true;
      for (unsigned b = 0; b < 2; ++b) {
        for (unsigned t = 0; t < 64; ++t) {
          const unsigned* r = &o[(b * 64 + t) * 8];
          unsigned lane = t % 32;
          unsigned ballot = 0, match = 0;
          for (unsigned l = 0; l < 32; ++l) {
            if (l % 3 == 0) ballot |= 1u << l;
            if (l % 4 == lane % 4) match |= 1u << l;
          }
          ok = ok && r[0] == 496 && r[1] == (lane >= 1 ? (lane - 1) * 10 : 0) &&
               r[2] == (lane + 2 < 32 ? (lane + 2) * 10 : lane * 10) && r[3] == 21 && r[4] == ballot && r[5] == match &&
               r[6] == t && r[7] == b;
          if (!ok) {
            std::printf("  block %u thread %u: %u %u %u %u %08x %08x %u %u\n", b, t, r[0], r[1], r[2], r[3], r[4], r[5],
                        r[6], r[7]);
            break;
          }
        }
      }
      expect(ok, "warp shuffles, ballot, match_any and threadIdx/blockIdx" + in);
    }
  }
  nemotronEmuSetOrder(2, 7);

  {  // dynamic shared memory: poisoned for every block; limited by the function attribute
    Buffer out(4 * 32 * 4);
    unsigned long long p = out.ptr;
    void* f = fn("emu_dynamic_shared");
    expect_ok(launch(f, 4, 32, 128, {&p}), "emu_dynamic_shared");
    for (unsigned v : out.read<unsigned>()) expect(v == 0xFFFFFFFFu, "dynamic shared memory is poisoned per block");
    expect_error(launch(f, 1, 32, 64 * 1024, {&p}), 1, "64 KiB dynamic shared without the attribute",
                 "MAX_DYNAMIC_SHARED_SIZE_BYTES");
    expect_ok(cuFuncSetAttribute(f, 8, 64 * 1024), "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");
    expect_ok(launch(f, 1, 32, 64 * 1024, {&p}), "64 KiB dynamic shared with the attribute");
  }
  {  // launch limits and argument checks
    Buffer x(256 * 4);
    unsigned long long p = x.ptr;
    int n = 256;
    void* f = fn("emu_add_one");
    expect_error(launch(f, 1, 1025, 0, {&p, &n}), 1, "1025 threads", "device limits");
    expect_error(launch(f, 1, 512, 0, {&p, &n}), 701, "512 threads over __launch_bounds__(256)", "__launch_bounds__");
    unsigned long long outside = p + 4096 * 16;
    expect_error(launch(f, 1, 256, 0, {&outside, &n}), 1, "a pointer outside every allocation", "pointer parameter 0");
    void* none = nullptr;
    expect_error(cuModuleGetFunction(&none, module, "no_such_kernel"), 500, "an unknown kernel", "no_such_kernel");
    std::vector<int> host(300);
    expect_error(cuMemcpyHtoD_v2(p, host.data(), 300 * 4), 1, "an out-of-bounds cuMemcpyHtoD", "outside the allocation");
    expect_error(cuMemcpyDtoH_v2(host.data(), p + 8, 256 * 4), 1, "an out-of-bounds cuMemcpyDtoH", "outside the allocation");
  }
  {  // zeroing a large allocation (dropped pages) reads back as zeros everywhere, including the unaligned edges
    size_t n = (8u << 20) + 3;
    Buffer big(n);
    expect_ok(cuMemsetD8_v2(big.ptr, 0xAB, n), "cuMemsetD8(0xAB)");
    expect_ok(cuMemsetD8_v2(big.ptr + 1, 0, n - 2), "cuMemsetD8(0) of all but the first and last byte");
    auto v = big.read<unsigned char>();
    bool ok = v[0] == 0xAB && v[n - 1] == 0xAB;
    for (size_t i = 1; i + 1 < n && ok; i += 4093) ok = v[i] == 0;
    ok = ok && v[1] == 0 && v[n - 2] == 0 && v[4095] == 0 && v[4096] == 0;
    expect(ok, "cuMemsetD8(0) over 8 MiB zeroes exactly its range");
  }
  {  // stream capture into a graph, and replay
    std::vector<int> zeros(256, 0);
    Buffer x(256 * 4);
    expect_ok(cuMemcpyHtoD_v2(x.ptr, zeros.data(), 256 * 4), "zero x");
    unsigned long long p = x.ptr;
    int n = 256;
    void* stream;
    void* graph;
    void* exec;
    expect_ok(cuStreamCreate(&stream, 1), "cuStreamCreate");
    expect_ok(cuStreamBeginCapture_v2(stream, 0), "cuStreamBeginCapture");
    expect_ok(launch(fn("emu_add_one"), 1, 256, 0, {&p, &n}, stream), "captured launch");
    expect_error(launch(fn("emu_add_one"), 1, 256, 0, {&p, &n}, nullptr), 900, "legacy stream during capture", "captured");
    n = 0;   // the graph copied the arguments at capture time
    expect_ok(cuStreamEndCapture(stream, &graph), "cuStreamEndCapture");
    expect(x.read<int>()[5] == 0, "a captured launch does not run at capture");
    expect_ok(cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiate");
    expect_ok(cuGraphLaunch(exec, stream), "cuGraphLaunch 1");
    expect_ok(cuGraphLaunch(exec, stream), "cuGraphLaunch 2");
    expect_ok(cuStreamSynchronize(stream), "cuStreamSynchronize");
    auto v = x.read<int>();
    expect(v[0] == 2 && v[255] == 2, "a graph replays its launch with the captured arguments (x = 2)");
  }
  {  // capture modes: unsafe calls on the capturing thread, global mode for every thread, the legacy stream's
     // implicit synchronisation with a blocking stream being captured, ending on another thread
    void* nonblocking;
    void* blocking;
    void* graph;
    unsigned long long p = 0;
    expect_ok(cuStreamCreate(&nonblocking, 1), "cuStreamCreate(non-blocking)");
    expect_ok(cuStreamCreate(&blocking, 0), "cuStreamCreate(blocking)");
    expect_ok(cuStreamBeginCapture_v2(nonblocking, 1), "begin capture, thread-local mode");
    expect_error(cuMemAlloc_v2(&p, 256), 900, "cuMemAlloc on the capturing thread", "captured");
    expect_error(cuCtxSynchronize(), 900, "cuCtxSynchronize on the capturing thread", "captured");
    int other_alloc = -1;
    int other_ended = -1;
    std::thread([&] {
      // another thread may allocate during a thread-local capture, but not end it
      cuCtxSetCurrent(ctx);
      unsigned long long q = 0;
      other_alloc = cuMemAlloc_v2(&q, 256);
      if (other_alloc == 0) cuMemFree_v2(q);
      void* g;
      other_ended = cuStreamEndCapture(nonblocking, &g);
    }).join();
    expect(other_alloc == 0, "another thread allocates during a thread-local capture: " + std::to_string(other_alloc));
    expect(other_ended == 908, "another thread cannot end a thread-local capture: " + std::to_string(other_ended));
    expect_ok(cuStreamEndCapture(nonblocking, &graph), "end capture, thread-local mode");
    expect_ok(cuStreamBeginCapture_v2(nonblocking, 0), "begin capture, global mode");
    std::thread([&] {
      cuCtxSetCurrent(ctx);
      unsigned long long q = 0;
      other_alloc = cuMemAlloc_v2(&q, 256);
    }).join();
    expect(other_alloc == 900, "no thread allocates during a global capture: " + std::to_string(other_alloc));
    expect_ok(cuStreamEndCapture(nonblocking, &graph), "end capture, global mode");
    expect_ok(cuStreamBeginCapture_v2(blocking, 2), "begin capture of a blocking stream, relaxed mode");
    expect_ok(cuMemAlloc_v2(&p, 256), "relaxed mode allows cuMemAlloc");
    int zero = 0;
    expect_error(cuMemcpyHtoD_v2(p, &zero, sizeof zero), 906, "the legacy stream beside a captured blocking stream",
                 "blocking stream");
    expect_ok(cuMemFree_v2(p), "and cuMemFree");
    expect_ok(cuStreamEndCapture(blocking, &graph), "end capture, relaxed mode");
  }
  {  // deadlocks are reported naming kernel, block, thread and barrier; the fault is sticky until a reset
    Buffer out(64 * 4);
    unsigned long long p = out.ptr;
    expect_error(launch(fn("emu_partial_warp_shuffle"), 1, 32, 0, {&p}), 719, "partial-warp shuffle",
                 "kernel emu_partial_warp_shuffle: deadlock");
    std::string d = nemotronEmuLastError();
    expect(d.find("block (0,0,0) thread (") != std::string::npos && d.find("__shfl_xor_sync(mask 0xffffffff) at ") != std::string::npos,
           "the deadlock names the block, a thread and the shuffle: " + d);
    expect_error(cuCtxSynchronize(), 719, "the context after a fault", "emu_partial_warp_shuffle");
    expect_ok(cuDevicePrimaryCtxReset_v2(dev), "cuDevicePrimaryCtxReset");
    Buffer out2(64 * 4);
    unsigned long long p2 = out2.ptr;
    expect_error(launch(fn("emu_divergent_syncthreads"), 1, 64, 0, {&p2}), 719, "divergent __syncthreads",
                 "divergent __syncthreads");
    expect_ok(cuDevicePrimaryCtxReset_v2(dev), "cuDevicePrimaryCtxReset");
  }
  if (failures == 0) std::printf("emulator checks passed\n");
  return failures == 0 ? 0 : 1;
}
